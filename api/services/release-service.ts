import { actorOf, canAccessApp, type Principal } from '../../domain/access';
import { ConflictError } from '../../domain/errors/conflict-error';
import { NotFoundError } from '../../domain/errors/not-found-error';
import { UnavailableError } from '../../domain/errors/unavailable-error';
import { ValidationError } from '../../domain/errors/validation-error';
import { mappingProblems } from '../../domain/personalization';
import { allPlanSegments } from '../../domain/rollout-machine';
import type { Bundle } from '../../domain/bundle';
import { countingWindowMs, resolvePlan, type Plan, type PlanInput } from '../../domain/plan';
import { notificationProblems, type SegmentNotificationSpec } from '../../domain/segment-notification';
import { isTerminal, workflowIdFor, type PublishedState, type Release, type ReleaseStatus } from '../../domain/release';
import { stageSizingWarnings } from '../../domain/stage-sizing';
import { DAY_MS } from '../../domain/time';
import type { CommandName } from '../../domain/rollout-machine';
import type { ReleaseView, Transition } from '../../domain/rollout-view';
import type { SegmentSummary } from '../../domain/segment';
import type { Stores, Transactor } from '../../db/create-stores';
import type { NotificationState } from '../../db/stores/segment-notification-store';
import type { ExperimentDefinition } from '../../domain/experiment';
import type { ReleaseWithdrawal } from '../../db/release-withdrawal';
import type { NewRelease } from '../../db/stores/release-store';
import type { Logger } from '../../platform/logger';
import { newId, newSecret } from '../../platform/ids';
import type { ApiMetrics } from '../api-metrics';
import { auditByKey } from './app-audit';
import type { AppPolicyService } from './app-policy-service';
import type { AppService } from './app-service';
import type { RolloutClient } from './rollout-client';

export interface StartReleaseInput {
  appId: string;
  version: string;
  channel: string;
  plan: PlanInput | string;
  timeScale: number;
  /** Abort the channel's active release first instead of refusing. */
  supersede: boolean;
  /** Release a version that was rolled back on this channel before. */
  force: boolean;
  /** Personalization: segment → the version its devices get instead of `version`. */
  segmentBundles: Record<string, string>;
  /** What the push relay tells each segment's devices when a stage opens for them. */
  notifications: SegmentNotificationSpec[];
  /** Present: the release is an experiment; `version` is its first treatment arm's bundle. */
  experiment?: ExperimentDefinition;
}

export interface StartedRelease {
  release: Release;
  /** What the release engineer should know about the start (a plan too small for the fleet). */
  warnings: string[];
}

/** A release as the API shows it: what the database knows, refreshed from the live workflow. */
/** A release as the API shows it: never its bucket salt, which would let anyone pick canary ids. */
export interface ReleaseDetails extends Omit<Release, 'bucketSalt'> {
  stageIndex: number;
  stageName: string | null;
  phase: ReleaseView['phase'] | null;
  waitingSegments: string[];
  exposure: Record<string, number>;
  soakedMs: number | null;
  revision: number;
  reason: string | null;
  gates: ReleaseView['gates'];
  history: ReleaseView['history'];
  /** False when Temporal could not be asked and the published projection is shown instead. */
  live: boolean;
  /** `experiment`: arms split its devices (GET /v1/releases/:id/experiment has the results). */
  kind: 'release' | 'experiment';
  /** Segments of a personalized release with the version they get instead of `version`. */
  segmentBundles: Record<string, string>;
  /** Mapped segments whose own bundle a failing gate withdrew (their devices went back); the others go on. */
  withdrawnSegments: string[];
  notifications: SegmentNotificationSpec[];
}

export interface ReleaseService {
  start(input: StartReleaseInput, principal: Principal): Promise<StartedRelease>;
  get(releaseId: string, principal: Principal): Promise<ReleaseDetails>;
  command(releaseId: string, name: CommandName, reason: string, principal: Principal, idempotencyKey?: string): Promise<ReleaseDetails>;
  list(appId: string, principal: Principal, filter: { channel?: string; status?: ReleaseStatus; limit: number }): Promise<Release[]>;
  /**
   * Withdraws a release whose workflow is no longer running (terminated, failed, timed out, never
   * started): what the worker's reconciler does, on demand. A running workflow is refused: use rollback.
   */
  forceWithdraw(releaseId: string, reason: string, principal: Principal): Promise<ReleaseDetails>;
  /** The release's segment notifications so far, each with its deliveries and their progress. */
  notifications(releaseId: string, principal: Principal): Promise<NotificationState[]>;
}

export interface ReleaseServiceDeps {
  stores: Pick<Stores, 'releases' | 'bundles' | 'channels' | 'rolloutStates' | 'audit' | 'deviceProfiles' | 'segmentBundles' | 'segmentNotifications' | 'experiments'>;
  /** The release row commits with its mappings, notifications and experiment arms. */
  transact: Transactor;
  apps: AppService;
  policies: Pick<AppPolicyService, 'enforce'>;
  rollouts: RolloutClient;
  withdrawal: ReleaseWithdrawal;
  segmentsOf: (appId: string) => Promise<SegmentSummary[]>;
  metrics: ApiMetrics;
  logger: Logger;
}

/** Everything a start needs to know before anything is written; read in one round of parallel queries. */
interface StartContext {
  segments: SegmentSummary[];
  plan: Plan;
  baseline: Release | null;
  active: Release | null;
  activeDevices: number;
}

export function createReleaseService(deps: ReleaseServiceDeps): ReleaseService {
  const { stores, apps, rollouts } = deps;

  const definitionOf = async (releaseId: string): Promise<ReleaseDefinition> => {
    const [segmentBundles, notifications, experiment] = await Promise.all([
      stores.segmentBundles.forRelease(releaseId),
      stores.segmentNotifications.specsOf(releaseId),
      stores.experiments.get(releaseId),
    ]);
    return { kind: experiment ? 'experiment' : 'release', segmentBundles, notifications };
  };

  // The route has checked the caller's role; the release's app decides whether the caller may see it.
  const getAccessible = async (releaseId: string, principal: Principal): Promise<Release> => {
    const release = await stores.releases.get(releaseId);
    if (!release || !canAccessApp(principal, release.appId)) throw new NotFoundError(`no release ${releaseId}`);
    return release;
  };

  /** Refuses a start that cannot succeed, before it changes anything. */
  const prepareStart = async (input: StartReleaseInput, principal: Principal): Promise<StartContext> => {
    await apps.get(input.appId, principal);
    const [bundle, channel, segments, baseline, active, rolledBack, activeDevices] = await Promise.all([
      stores.bundles.get(input.appId, input.version),
      stores.channels.get(input.appId, input.channel),
      deps.segmentsOf(input.appId),
      stores.releases.findLatestCompleted(input.appId, input.channel),
      stores.releases.findActive(input.appId, input.channel),
      stores.releases.findRolledBack(input.appId, input.channel, input.version),
      stores.deviceProfiles.countActive(input.appId, input.channel, new Date(Date.now() - DAY_MS)),
    ]);
    if (!bundle) {
      throw new ValidationError(`app ${input.appId} has no bundle ${input.version}; upload it first`, [{ path: 'version', message: 'no such bundle' }]);
    }
    if (input.experiment) await requireArmBundles(input.appId, input.experiment);
    if (!channel) {
      throw new ValidationError(`app ${input.appId} has no channel ${input.channel}; create it first (POST /v1/apps/${input.appId}/channels)`, [
        { path: 'channel', message: 'no such channel' },
      ]);
    }
    const resolved = resolvePlan(input.plan, segments, input.timeScale);
    if (!resolved.ok) {
      throw new ValidationError(`invalid plan: ${resolved.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, resolved.problems);
    }
    // Presets are the house's own staged, gated plans; only a written plan can weaken the guard.
    if (typeof input.plan !== 'string') await deps.policies.enforce(input.appId, resolved.plan, principal);
    if (baseline?.version === input.version) {
      throw new ConflictError(`${input.version} is already fully released on ${input.channel}`, 'already_released');
    }
    if (rolledBack && !input.force) {
      throw new ConflictError(
        `${input.version} was rolled back on ${input.channel} (release ${rolledBack.release.id}${rolledBack.reason ? `: ${rolledBack.reason}` : ''}); ` +
          'once the cause is fixed, start it again with "force": true (CLI: --force), or release a new version',
        'version_rolled_back',
        { releaseId: rolledBack.release.id, reason: rolledBack.reason },
      );
    }
    if (active && !input.supersede) throw activeConflict(active);
    await checkPersonalization(input, bundle, segments, resolved.plan, baseline);
    return { segments, plan: resolved.plan, baseline, active, activeDevices };
  };

  /** Mapped bundles and notified segments are checked before anything is written, naming what to fix. */
  const checkPersonalization = async (input: StartReleaseInput, main: Bundle, segments: SegmentSummary[], plan: Plan, baseline: Release | null) => {
    const versions = [...new Set(Object.values(input.segmentBundles))];
    const found = await Promise.all(versions.map((v) => stores.bundles.get(input.appId, v)));
    const appSegments = segments.map((s) => s.key);
    const planSegments = allPlanSegments(plan);
    const problems = [
      ...mappingProblems({
        mapping: input.segmentBundles,
        appSegments,
        planSegments,
        main,
        baselineVersion: baseline?.version ?? null,
        bundles: new Map(found.flatMap((b) => (b ? [[b.version, b] as const] : []))),
      }),
      ...notificationProblems(input.notifications, appSegments, planSegments),
    ];
    if (problems.length > 0) throw new ValidationError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
  };

  // Superseding aborts a live release: only once nothing else can refuse this start.
  const supersede = async (active: Release, version: string, principal: Principal) => {
    try {
      await rollouts.command(active.workflowId, 'abort', { actor: actorOf(principal), reason: `superseded by a new release of ${version}` }, newId());
    } catch (err) {
      // Finished meanwhile: the channel is free anyway.
      if (!(err instanceof ConflictError)) throw err;
    }
  };

  const requireArmBundles = async (appId: string, experiment: ExperimentDefinition) => {
    const versions = experiment.arms.flatMap((a, i) => (a.version === null ? [] : [{ version: a.version, i }]));
    const found = await Promise.all(versions.map((v) => stores.bundles.get(appId, v.version)));
    const missing = versions.filter((_, k) => found[k] === null);
    if (missing.length > 0) {
      throw new ValidationError(`app ${appId} has no bundle ${missing.map((m) => m.version).join(', ')}; upload it first`, missing.map((m) => ({ path: `arms.${m.i}.version`, message: 'no such bundle' })));
    }
  };

  /** The release row claims the channel (the database refuses a second active release); an experiment's arms come with it. */
  const insertRelease = async (input: StartReleaseInput, context: StartContext, principal: Principal): Promise<Release> => {
    const id = newId();
    const row: NewRelease = {
      id,
      appId: input.appId,
      channel: input.channel,
      version: input.version,
      baselineVersion: context.baseline?.version ?? null,
      // A secret of its own: with the salt, anyone could compute which made-up ids are canaries.
      bucketSalt: newSecret(),
      plan: context.plan,
      windowMs: countingWindowMs(context.plan),
      status: 'pending',
      workflowId: workflowIdFor(id),
      createdBy: actorOf(principal),
    };
    const experiment = input.experiment;
    const outcome = await deps.transact(async (tx) => {
      const result = await tx.releases.insert(row);
      if ('inserted' in result) {
        await tx.segmentBundles.insert(id, input.appId, input.segmentBundles);
        await tx.segmentNotifications.insertSpecs(id, input.notifications);
        // The arm salt is a secret of its own too, independent of the bucket salt.
        if (experiment) await tx.experiments.insert({ releaseId: id, appId: input.appId, armSalt: newSecret(), definition: experiment });
      }
      return result;
    });
    if ('inserted' in outcome) return outcome.inserted;
    const winner = await stores.releases.findActive(input.appId, input.channel);
    throw winner ? activeConflict(winner) : new ConflictError(`another release on ${input.channel} started meanwhile`, 'release_active');
  };

  const launchWorkflow = async (release: Release, segments: SegmentSummary[], input: Pick<StartReleaseInput, 'segmentBundles' | 'experiment'>, principal: Principal): Promise<void> => {
    const workflowInput = {
      // A failing gate in a mapped segment withdraws that mapping only (see the rollout machine).
      ...(Object.keys(input.segmentBundles).length > 0 ? { segmentBundles: input.segmentBundles } : {}),
      releaseId: release.id,
      appId: release.appId,
      channel: release.channel,
      version: release.version,
      plan: release.plan,
      segments,
      windowMs: release.windowMs,
      startedBy: actorOf(principal),
    };
    try {
      const { experiment } = input;
      await (experiment ? rollouts.startExperiment(release.workflowId, { ...workflowInput, experiment }) : rollouts.start(release.workflowId, workflowInput));
    } catch (err) {
      deps.logger.error({ err, releaseId: release.id }, 'could not start the rollout workflow');
      // Withdrawn, not merely marked: a start that timed out may still have created the workflow, and
      // its publishes must then meet a terminal state instead of reviving the release.
      await deps.withdrawal.withdraw({
        release,
        actor: actorOf(principal),
        reason: 'the rollout workflow could not be started',
        details: { withdrawnBy: 'start-failure', keyName: principal.name, keyRole: principal.role },
      });
      const code = err instanceof UnavailableError ? err.code : 'unavailable';
      throw new UnavailableError('Temporal did not accept the rollout workflow; the release was not started, try again', code);
    }
  };

  // Accepted commands reach the audit log through the workflow's transitions; refused ones only from here.
  const recordRefusal = async (release: Release, name: CommandName | 'force-withdraw', reason: string, refusal: ConflictError, principal: Principal) => {
    deps.metrics.adminActions.inc({ action: `release.${name}`, outcome: 'refused' });
    await auditByKey(stores, principal, {
      action: 'release.command_refused',
      target: `release:${release.id}`,
      appId: release.appId,
      reason,
      details: { command: name, code: refusal.code, refusal: refusal.message, status: release.status },
    });
  };

  /** `rollback` of a completed release: the channel's latest is withdrawn by the revert workflow. */
  const revert = async (release: Release, reason: string, principal: Principal): Promise<ReleaseView> => {
    const [latest] = await stores.releases.list({ appId: release.appId, channel: release.channel, limit: 1 });
    if (latest && latest.id !== release.id) throw notLatestConflict(release, latest);
    const view = await rollouts.queryState(release.workflowId);
    if (!view) throw new UnavailableError(`Temporal cannot tell how release ${release.id} ended right now; nothing was changed, try again`);
    const result = await rollouts.revert({
      releaseId: release.id,
      appId: release.appId,
      channel: release.channel,
      version: release.version,
      actor: actorOf(principal),
      reason,
      lastSeq: Math.max(0, ...view.history.map((t) => t.seq)),
      stageIndex: view.stageIndex,
      exposure: view.exposure,
    });
    return withRevert(view, result.transition, result.revision);
  };

  return {
    async start(input, principal) {
      const context = await prepareStart(input, principal);
      const warnings = stageSizingWarnings(context.plan, context.activeDevices, input.channel);
      if (context.active) await supersede(context.active, input.version, principal);
      const release = await insertRelease(input, context, principal);
      await launchWorkflow(release, context.segments, input, principal);
      const plan = typeof input.plan === 'string' ? input.plan : 'custom';
      await auditByKey(stores, principal, {
        action: input.experiment ? 'experiment.start' : 'release.start',
        target: `release:${release.id}`,
        appId: input.appId,
        reason: null,
        details: { appId: input.appId, channel: input.channel, version: input.version, plan, force: input.force, warnings, ...(input.experiment ? { experiment: input.experiment } : {}) },
      });
      deps.metrics.releasesStarted.inc({ plan });
      return { release, warnings };
    },

    async get(releaseId, principal) {
      const release = await getAccessible(releaseId, principal);
      const [view, published, definition] = await Promise.all([
        rollouts.queryState(release.workflowId),
        stores.rolloutStates.get(releaseId),
        definitionOf(release.id),
      ]);
      // Reverted after completion: the closed rollout does not know, its revert workflow does.
      if (view?.status === 'completed' && published?.status === 'rolled_back' && published.revision > view.revision) {
        const transition = await rollouts.revertOf(releaseId);
        return details(release, transition ? withRevert(view, transition, published.revision) : null, published, definition);
      }
      return details(release, view, published, definition);
    },

    async command(releaseId, name, reason, principal, idempotencyKey) {
      const release = await getAccessible(releaseId, principal);
      const updateId = idempotencyKey ? `${principal.keyId}:${idempotencyKey}` : newId();
      let view: ReleaseView;
      try {
        if (name === 'rollback' && release.status === 'completed') {
          view = await revert(release, reason, principal);
        } else {
          if (isTerminal(release.status)) throw finishedConflict(release, name);
          view = await rollouts.command(release.workflowId, name, { actor: actorOf(principal), reason }, updateId);
        }
      } catch (err) {
        if (err instanceof ConflictError) await recordRefusal(release, name, reason, err, principal);
        throw err;
      }
      deps.metrics.adminActions.inc({ action: `release.${name}`, outcome: 'accepted' });
      return details({ ...release, status: view.status }, view, null, await definitionOf(release.id));
    },

    async list(appId, principal, filter) {
      await apps.get(appId, principal);
      return stores.releases.list({ appId, ...filter });
    },

    async forceWithdraw(releaseId, reason, principal) {
      const release = await getAccessible(releaseId, principal);
      const refuse = async (refusal: ConflictError) => {
        await recordRefusal(release, 'force-withdraw', reason, refusal, principal);
        return refusal;
      };
      if (isTerminal(release.status)) throw await refuse(finishedConflict(release, 'force-withdraw'));
      const workflow = await rollouts.runState(release.workflowId);
      if (workflow.kind === 'open') {
        throw await refuse(
          new ConflictError(
            `force-withdraw refused: the workflow of release ${release.id} is ${workflow.status.toLowerCase()} and still in charge; ` +
              `use POST /v1/releases/${release.id}/rollback (or abort) instead`,
            'workflow_running',
            { workflowStatus: workflow.status },
          ),
        );
      }
      const workflowStatus = workflow.kind === 'closed' ? workflow.status : 'NEVER_STARTED';
      const state = await deps.withdrawal.withdraw({
        release,
        actor: actorOf(principal),
        reason: `${reason} (force-withdraw; workflow ${workflowStatus.toLowerCase()})`,
        details: { withdrawnBy: 'force-withdraw', workflowStatus, keyName: principal.name, keyRole: principal.role },
      });
      if (!state) {
        const finished = (await stores.rolloutStates.get(release.id))?.status ?? release.status;
        throw await refuse(finishedConflict({ ...release, status: finished }, 'force-withdraw'));
      }
      deps.metrics.adminActions.inc({ action: 'release.force-withdraw', outcome: 'accepted' });
      return details({ ...release, status: state.status }, null, state, await definitionOf(release.id));
    },

    async notifications(releaseId, principal) {
      const release = await getAccessible(releaseId, principal);
      return stores.segmentNotifications.listForRelease(release.id);
    },
  };
}

/** What the release was started with besides its row. */
type ReleaseDefinition = Pick<ReleaseDetails, 'kind' | 'segmentBundles' | 'notifications'>;
type LiveFields = Omit<ReleaseDetails, keyof Release | keyof ReleaseDefinition | 'live'> & Pick<Release, 'status'>;

function details(release: Release, view: ReleaseView | null, published: PublishedState | null, definition: ReleaseDefinition): ReleaseDetails {
  // A release withdrawn without its workflow (reconciler, force-withdraw): the closed workflow's last
  // state is no longer what devices see.
  const current = view !== null && published !== null && isTerminal(published.status) && !isTerminal(view.status) ? null : view;
  const { bucketSalt, ...shown } = release;
  return { ...shown, ...(current ? fromWorkflow(release, current, published) : fromProjection(release, published)), ...definition, live: current !== null };
}

/** What the workflow says, except its status until devices and the one-active-release check see it. */
function fromWorkflow(release: Release, view: ReleaseView, published: PublishedState | null): LiveFields {
  // Until its publish activity lands, the workflow is ahead of what devices and the one-active-release
  // check see; answering with its status then would let a caller act on a state not yet in effect.
  const status = view.publishedRevision >= view.revision ? view.status : (published?.status ?? release.status);
  return {
    status,
    stageIndex: view.stageIndex,
    stageName: view.stageName ?? stageNameOf(release, view.stageIndex),
    phase: view.phase,
    waitingSegments: view.waitingSegments,
    exposure: view.exposure,
    withdrawnSegments: view.withdrawnSegments ?? [],
    soakedMs: view.soakedMs,
    revision: view.publishedRevision,
    reason: view.reason ?? published?.reason ?? null,
    gates: view.gates,
    history: view.history,
  };
}

/** What devices are served when Temporal cannot be asked: the published projection. */
function fromProjection(release: Release, published: PublishedState | null): LiveFields {
  const stageIndex = published?.stageIndex ?? 0;
  return {
    status: published?.status ?? release.status,
    stageIndex,
    stageName: stageNameOf(release, stageIndex),
    phase: null,
    waitingSegments: [],
    exposure: published?.exposure ?? {},
    withdrawnSegments: published?.withdrawnSegments ?? [],
    soakedMs: null,
    revision: published?.revision ?? 0,
    reason: published?.reason ?? null,
    gates: null,
    history: [],
  };
}

function stageNameOf(release: Release, stageIndex: number): string | null {
  return release.plan.stages[stageIndex]?.name ?? null;
}

/** The finished rollout's view with the revert applied: what devices are served now. */
function withRevert(view: ReleaseView, transition: Transition, revision: number): ReleaseView {
  return {
    ...view,
    status: transition.to,
    exposure: transition.exposure,
    revision,
    publishedRevision: revision,
    reason: transition.reason,
    history: [...view.history, transition],
  };
}

/** A command for a release that has ended: say what can still be done instead. */
function finishedConflict(release: Release, name: CommandName | 'force-withdraw'): ConflictError {
  const next =
    release.status === 'completed'
      ? `to send its devices back to ${release.baselineVersion ?? 'the bundle in their binary'}, roll it back (POST /v1/releases/${release.id}/rollback) while it is the channel's latest release`
      : `start a new release (releasing ${release.version} again needs "force": true)`;
  return new ConflictError(`${name} refused: release ${release.id} (${release.version}) is ${release.status} and can no longer change; ${next}`, 'release_finished', {
    status: release.status,
  });
}

function notLatestConflict(release: Release, latest: Release): ConflictError {
  const instead = isTerminal(latest.status)
    ? `to send devices to another version, start a release of it on ${release.channel}`
    : `roll back or abort release ${latest.id} first; devices then go back to its baseline`;
  return new ConflictError(
    `rollback refused: release ${release.id} (${release.version}) is not the latest release on channel ${release.channel}; ` +
      `release ${latest.id} (${latest.version}, ${latest.status}) came after it. Only the channel's latest completed release can be reverted: ${instead}`,
    'not_latest_release',
    { latestReleaseId: latest.id, latestVersion: latest.version, latestStatus: latest.status },
  );
}

function activeConflict(active: Release): ConflictError {
  return new ConflictError(
    `release ${active.id} (${active.version}) is still ${active.status} on channel ${active.channel}; finish or abort it, or start with "supersede": true`,
    'release_active',
    { activeReleaseId: active.id, activeVersion: active.version, status: active.status },
  );
}
