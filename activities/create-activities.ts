import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { Stores, Transactor } from '../db/create-stores';
import type { AuditEntry, AuditStore } from '../db/stores/audit-store';
import type { GateWindowStore } from '../db/stores/gate-window-store';
import type { RolloutStateStore } from '../db/stores/rollout-state-store';
import type { WebhookStore } from '../db/stores/webhook-store';
import { evaluateGates } from '../domain/gates/evaluate-gates';
import type { GateEvaluation, GateEvaluationInput, GateWindow } from '../domain/gates/gate-types';
import type { PublishedState } from '../domain/release';
import type { RevertResult, Transition } from '../domain/rollout-view';
import type { Logger } from '../platform/logger';
import type { ActivityMetrics } from './activity-metrics';
import { deliveryKeyOf, outboxDeliveriesOf, webhookPayload } from '../domain/webhook-payload';
import { deliverWebhook, type DeliveryOptions } from './deliver-webhook';
import { createExperimentActivities } from './experiment-activities';
import { passBarrier } from './settled-window';
import type { ExperimentStore } from '../db/stores/experiment-store';

export interface ActivityDeps {
  rolloutStates: RolloutStateStore;
  gateWindows: GateWindowStore;
  experiments: ExperimentStore;
  audit: AuditStore;
  webhooks: WebhookStore;
  /** Audit rows and webhook outbox rows of a transition commit together. */
  transaction: Transactor;
  logger: Logger;
  metrics: ActivityMetrics;
  webhookDelivery: DeliveryOptions;
}

export interface PublishResult {
  /** False when an equal or newer revision was already stored (a retried publish). */
  written: boolean;
}

export interface EvaluateGatesInput {
  releaseId: string;
  windowMs: number;
  /** Start of the first counting window not yet seen by the gate. */
  from: number;
  /** Windows ending after this (now minus the reporting lag) are still filling up. */
  to: number;
  request: Omit<GateEvaluationInput, 'window'>;
}

export interface EvaluateGatesResult {
  evaluation: GateEvaluation;
  /** The gate has seen every counting window before this instant. */
  windowEnd: number;
}

export interface NotifyInput {
  releaseId: string;
  appId: string;
  channel: string;
  version: string;
  transition: Transition;
}

export interface RecordTransitionsInput {
  releaseId: string;
  appId: string;
  transitions: Transition[];
  /**
   * Present: the transitions' webhook deliveries are written to the outbox in the same transaction
   * (the worker's drainer sends them). Absent (runs from before the outbox): the workflow notifies.
   */
  webhooks?: { channel: string; version: string };
}

function auditEntryOf(releaseId: string, appId: string, t: Transition): AuditEntry {
  return {
    actor: t.actor,
    action: `release.${t.event}`,
    target: `release:${releaseId}`,
    appId,
    reason: t.reason,
    details: {
      appId,
      from: t.from,
      to: t.to,
      stageIndex: t.stageIndex,
      exposure: t.exposure,
      at: new Date(t.at).toISOString(),
      ...(t.claimedBy ? { claimedBy: t.claimedBy } : {}),
    },
  };
}

export interface RevertCompletedInput {
  releaseId: string;
  appId: string;
  transition: Transition;
  webhooks: { channel: string; version: string };
}

interface Recorded {
  /** Transitions new to the audit log (a retried activity finds the others there). */
  fresh: Transition[];
  /** Webhook deliveries new to the outbox. */
  enqueued: number;
}

/** Audit rows exactly once per transition (keyed by release and seq), and their outbox rows. */
async function recordInTransaction(stores: Stores, input: RecordTransitionsInput): Promise<Recorded> {
  const { releaseId, appId, webhooks } = input;
  const fresh: Transition[] = [];
  for (const t of input.transitions) {
    if (await stores.audit.recordOnce(auditEntryOf(releaseId, appId, t), `release:${releaseId}:${t.seq}`)) fresh.push(t);
  }
  if (!webhooks) return { fresh, enqueued: 0 };
  const hooks = await stores.webhooks.listForApp(appId);
  const deliveries = input.transitions.flatMap((transition) =>
    outboxDeliveriesOf(hooks, webhookPayload({ id: deliveryKeyOf(releaseId, transition.seq), releaseId, appId, ...webhooks, transition })),
  );
  return { fresh, enqueued: await stores.webhookOutbox.enqueue(deliveries) };
}

export function createActivities(deps: ActivityDeps) {
  // Each transition is logged once: an operator following the worker's output sees every release move.
  const reportRecorded = (input: RecordTransitionsInput, recorded: Recorded) => {
    deps.metrics.webhooksEnqueued.inc(recorded.enqueued);
    for (const t of recorded.fresh) {
      deps.logger.info(
        { releaseId: input.releaseId, appId: input.appId, event: t.event, from: t.from, to: t.to, stageIndex: t.stageIndex, exposure: t.exposure, actor: t.actor },
        `release ${input.releaseId} ${t.event}: ${t.reason}`,
      );
    }
  };

  /** Forged-looking telemetry pauses the release; this is what pages, with the numbers. */
  const reportSetAside = (releaseId: string, devicesBefore: number, evaluation: GateEvaluation) => {
    const trust = evaluation.evidence.trust;
    if (trust === undefined) return;
    deps.metrics.gateSetAside.inc({ kind: 'device_window' }, Math.max(0, trust.totals.devices - devicesBefore));
    if (!trust.distrusted) return;
    deps.metrics.gateSetAside.inc({ kind: 'distrusted_window' });
    const reasons = evaluation.evidence.findings.filter((f) => f.gate === 'data_quality' && f.verdict === 'pause').map((f) => f.message);
    deps.logger.warn({ releaseId, window: trust.window, totals: trust.totals, reasons }, 'telemetry looks forged: window set aside, release paused');
  };

  return {
    ...createExperimentActivities(deps),
    /** Makes a workflow decision visible to devices; idempotent thanks to the revision guard. */
    async publishRolloutState(state: PublishedState): Promise<PublishResult> {
      if (!Number.isInteger(state.revision) || state.revision < 1) {
        throw ApplicationFailure.nonRetryable(`invalid revision ${state.revision}`, 'InvalidRolloutState');
      }
      const written = await deps.rolloutStates.publish(state);
      deps.metrics.published.inc({ status: state.status, written: String(written) });
      if (!written) deps.logger.info({ releaseId: state.releaseId, revision: state.revision }, 'stale publish ignored');
      return { written };
    },

    /**
     * Reads the counting windows the gate has not seen and lets the (pure) gate judge them. A failed
     * read is not an activity failure: the gate counts it and pauses the release after several.
     */
    async evaluateGates(input: EvaluateGatesInput): Promise<EvaluateGatesResult> {
      if (!(input.windowMs > 0)) throw ApplicationFailure.nonRetryable(`invalid windowMs ${input.windowMs}`, 'InvalidGateRequest');
      let windowEnd = input.from;
      let window: GateWindow | null;
      try {
        const settled = await passBarrier(deps, input);
        windowEnd = settled.end;
        window = await deps.gateWindows.read(input.releaseId, settled.start, settled.end);
      } catch (err) {
        deps.logger.error({ err, releaseId: input.releaseId }, 'reading gate counts failed');
        deps.metrics.gateReadErrors.inc();
        window = null;
      }
      const evaluation = evaluateGates({ ...input.request, window });
      deps.metrics.gateVerdicts.inc({ verdict: evaluation.verdict });
      reportSetAside(input.releaseId, input.request.state.setAside?.devices ?? 0, evaluation);
      return { evaluation, windowEnd: window === null ? input.from : windowEnd };
    },

    /**
     * Writes transitions to the audit log exactly once each (keyed by release and sequence number),
     * and logs each once: an operator following the worker's output sees every release move.
     */
    async recordTransitions(input: RecordTransitionsInput): Promise<void> {
      reportRecorded(input, await deps.transaction((stores) => recordInTransaction(stores, input)));
    },

    /**
     * Withdraws a completed release (see the revert workflow): publishes `rolled_back` at zero
     * exposure and records the transition with its webhook deliveries, all in one transaction.
     * A retry after a commit whose answer was lost finds the release reverted and succeeds.
     */
    async revertCompletedRelease(input: RevertCompletedInput): Promise<RevertResult> {
      const { releaseId, transition } = input;
      const result = await deps.transaction(async (stores) => {
        const outcome = await stores.rolloutReverts.revertCompleted(releaseId, transition.reason);
        if ('notCompleted' in outcome) {
          throw ApplicationFailure.nonRetryable(`release ${releaseId} is ${outcome.notCompleted ?? 'not published'}; only a completed release can be reverted`, 'NotRevertible');
        }
        const state = 'reverted' in outcome ? outcome.reverted : outcome.alreadyReverted;
        const recorded = { ...input, transitions: [{ ...transition, exposure: state.exposure }] };
        return { revision: state.revision, recorded, written: await recordInTransaction(stores, recorded) };
      });
      deps.metrics.published.inc({ status: 'rolled_back', written: String(result.written.fresh.length > 0) });
      reportRecorded(result.recorded, result.written);
      return { revision: result.revision, transition: result.recorded.transitions[0]! };
    },

    /**
     * Sends one transition to every webhook of the app that wants it. Deliveries are recorded, so a
     * retry only sends what has not been accepted yet; receivers dedupe on the idempotency key.
     */
    async notify(input: NotifyInput): Promise<void> {
      const key = deliveryKeyOf(input.releaseId, input.transition.seq);
      const hooks = (await deps.webhooks.listForApp(input.appId)).filter(
        (w) => w.events.length === 0 || w.events.includes(input.transition.event),
      );
      if (hooks.length === 0) return;
      const done = await deps.webhooks.deliveredTo(key);
      const payload = webhookPayload({ ...input, id: key });
      const failures: string[] = [];
      for (const hook of hooks.filter((h) => !done.has(h.id))) {
        const outcome = await deliverWebhook(hook, payload, key, deps.webhookDelivery);
        deps.metrics.webhookDeliveries.inc({ outcome: outcome.kind });
        if (outcome.kind === 'failed') {
          failures.push(`webhook ${hook.id} (${outcome.detail})`);
        } else {
          await deps.webhooks.recordDelivery(key, hook.id, outcome.status);
          if (outcome.kind === 'rejected') deps.logger.warn({ webhook: hook.id, status: outcome.status, key }, 'webhook rejected the delivery; not retrying');
        }
        heartbeat();
      }
      if (failures.length > 0) throw ApplicationFailure.retryable(`webhook delivery failed: ${failures.join('; ')}`, 'WebhookDeliveryFailed');
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
