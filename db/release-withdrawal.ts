import { isTerminal, withdrawnState, WITHDRAWN_WITHOUT_WORKFLOW, type PublishedState, type Release } from '../domain/release';
import type { Transition } from '../domain/rollout-view';
import { outboxDeliveriesOf, webhookPayload, withdrawalDeliveryKeyOf } from '../domain/webhook-payload';
import type { Transactor } from './create-stores';

export interface WithdrawRequest {
  release: Release;
  actor: string;
  reason: string;
  /** Recorded with the transition: who asked and what the workflow had become. */
  details: Record<string, unknown>;
}

export interface ReleaseWithdrawal {
  /**
   * Publishes the withdrawn state of a release whose workflow can no longer publish, records the
   * transition and queues its webhook deliveries (the worker's outbox drainer sends them), in one
   * transaction. null when a terminal state is stored already or was meanwhile
   * (by the workflow or another worker's reconciler): nothing was published or recorded.
   */
  withdraw(request: WithdrawRequest): Promise<PublishedState | null>;
}

export function createReleaseWithdrawal(transact: Transactor): ReleaseWithdrawal {
  return {
    withdraw: ({ release, actor, reason, details }) =>
      transact(async (stores) => {
        const current = await stores.rolloutStates.get(release.id);
        // The workflow may have finished the release since the caller looked (a completed release may
        // still be withdrawn by the publish guard, as a revert; this is not one).
        if (current && isTerminal(current.status)) return null;
        const state = withdrawnState(release, current, reason);
        if (!(await stores.rolloutStates.publish(state))) return null;
        const at = Date.now();
        const from = current?.status ?? release.status;
        const transition: Omit<Transition, 'seq'> = { at, event: WITHDRAWN_WITHOUT_WORKFLOW, from, to: state.status, stageIndex: state.stageIndex, exposure: state.exposure, actor, reason };
        await stores.audit.recordOnce(
          {
            actor,
            action: `release.${state.status}`,
            target: `release:${release.id}`,
            appId: release.appId,
            reason,
            details: { ...details, appId: release.appId, from, to: state.status, stageIndex: state.stageIndex, exposure: state.exposure, at: new Date(at).toISOString() },
          },
          `release:${release.id}:withdrawn`,
        );
        const payload = webhookPayload({ id: withdrawalDeliveryKeyOf(release.id), releaseId: release.id, appId: release.appId, channel: release.channel, version: release.version, transition });
        await stores.webhookOutbox.enqueue(outboxDeliveriesOf(await stores.webhooks.listForApp(release.appId), payload));
        return state;
      }),
  };
}
