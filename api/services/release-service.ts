import { actorOf, type Principal } from '../../domain/access';
import { ConflictError } from '../../domain/errors/conflict-error';
import { NotFoundError } from '../../domain/errors/not-found-error';
import { UnavailableError } from '../../domain/errors/unavailable-error';
import { ValidationError } from '../../domain/errors/validation-error';
import { countingWindowMs, resolvePlan, type PlanInput } from '../../domain/plan';
import { workflowIdFor, type PublishedState, type Release, type ReleaseStatus } from '../../domain/release';
import type { CommandName } from '../../domain/rollout-machine';
import type { ReleaseView } from '../../domain/rollout-view';
import type { SegmentSummary } from '../../domain/segment';
import type { Stores } from '../../db/create-stores';
import type { Logger } from '../../platform/logger';
import { newId } from '../../platform/ids';
import type { ApiMetrics } from '../api-metrics';
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
}

/** A release as the API shows it: what the database knows, refreshed from the live workflow. */
export interface ReleaseDetails extends Release {
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
}

export interface ReleaseService {
  start(input: StartReleaseInput, principal: Principal): Promise<Release>;
  get(releaseId: string, principal: Principal): Promise<ReleaseDetails>;
  command(releaseId: string, name: CommandName, reason: string, principal: Principal, idempotencyKey?: string): Promise<ReleaseDetails>;
  list(appId: string, principal: Principal, filter: { channel?: string; status?: ReleaseStatus; limit: number }): Promise<Release[]>;
}

export interface ReleaseServiceDeps {
  stores: Pick<Stores, 'releases' | 'bundles' | 'channels' | 'rolloutStates' | 'audit'>;
  apps: AppService;
  rollouts: RolloutClient;
  segmentsOf: (appId: string) => Promise<SegmentSummary[]>;
  metrics: ApiMetrics;
  logger: Logger;
}

export function createReleaseService(deps: ReleaseServiceDeps): ReleaseService {
  const { stores, apps, rollouts } = deps;

  const getAccessible = async (releaseId: string, principal: Principal): Promise<Release> => {
    const release = await stores.releases.get(releaseId);
    if (!release) throw new NotFoundError(`no release ${releaseId}`);
    await apps.get(release.appId, principal).catch(() => {
      throw new NotFoundError(`no release ${releaseId}`);
    });
    return release;
  };

  const supersede = async (active: Release, version: string, principal: Principal) => {
    try {
      await rollouts.command(active.workflowId, 'abort', { actor: actorOf(principal), reason: `superseded by a new release of ${version}` }, newId());
    } catch (err) {
      // Finished meanwhile: the channel is free anyway.
      if (!(err instanceof ConflictError)) throw err;
    }
  };

  return {
    async start(input, principal) {
      await apps.get(input.appId, principal);
      const bundle = await stores.bundles.get(input.appId, input.version);
      if (!bundle) {
        throw new ValidationError(`app ${input.appId} has no bundle ${input.version}; upload it first`, [
          { path: 'version', message: 'no such bundle' },
        ]);
      }
      if (!(await stores.channels.get(input.appId, input.channel))) {
        throw new ValidationError(`app ${input.appId} has no channel ${input.channel}; create it first (POST /v1/apps/${input.appId}/channels)`, [
          { path: 'channel', message: 'no such channel' },
        ]);
      }
      const segments = await deps.segmentsOf(input.appId);
      const resolved = resolvePlan(input.plan, segments, input.timeScale);
      if (!resolved.ok) {
        throw new ValidationError(`invalid plan: ${resolved.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, resolved.problems);
      }
      const baseline = await stores.releases.findLatestCompleted(input.appId, input.channel);
      if (baseline?.version === input.version) {
        throw new ConflictError(`${input.version} is already fully released on ${input.channel}`, 'already_released');
      }
      // Superseding aborts a live release: only once nothing else can refuse this start.
      const active = await stores.releases.findActive(input.appId, input.channel);
      if (active && !input.supersede) throw activeConflict(active);
      if (active) await supersede(active, input.version, principal);

      const id = newId();
      const workflowId = workflowIdFor(id);
      const outcome = await stores.releases.insert({
        id,
        appId: input.appId,
        channel: input.channel,
        version: input.version,
        baselineVersion: baseline?.version ?? null,
        bucketSalt: id,
        plan: resolved.plan,
        windowMs: countingWindowMs(resolved.plan),
        status: 'pending',
        workflowId,
        createdBy: actorOf(principal),
      });
      if ('activeConflict' in outcome) {
        const winner = await stores.releases.findActive(input.appId, input.channel);
        throw winner ? activeConflict(winner) : new ConflictError(`another release on ${input.channel} started meanwhile`, 'release_active');
      }
      try {
        await rollouts.start(workflowId, {
          releaseId: id,
          appId: input.appId,
          channel: input.channel,
          version: input.version,
          plan: resolved.plan,
          segments,
          windowMs: outcome.inserted.windowMs,
          startedBy: actorOf(principal),
        });
      } catch (err) {
        await stores.releases.markStartFailed(id);
        deps.logger.error({ err, releaseId: id }, 'could not start the rollout workflow');
        throw new UnavailableError('Temporal did not accept the rollout workflow; the release was not started, try again');
      }
      await stores.audit.record({
        actor: actorOf(principal),
        action: 'release.start',
        target: `release:${id}`,
        reason: null,
        details: { appId: input.appId, channel: input.channel, version: input.version, plan: typeof input.plan === 'string' ? input.plan : 'custom' },
      });
      deps.metrics.releasesStarted.inc({ plan: typeof input.plan === 'string' ? input.plan : 'custom' });
      return outcome.inserted;
    },

    async get(releaseId, principal) {
      const release = await getAccessible(releaseId, principal);
      const [view, published] = await Promise.all([rollouts.queryState(release.workflowId), stores.rolloutStates.get(releaseId)]);
      return details(release, view, published);
    },

    async command(releaseId, name, reason, principal, idempotencyKey) {
      const release = await getAccessible(releaseId, principal);
      const updateId = idempotencyKey ? `${principal.keyId}:${idempotencyKey}` : newId();
      const view = await rollouts.command(release.workflowId, name, { actor: actorOf(principal), reason }, updateId);
      deps.metrics.adminActions.inc({ action: `release.${name}`, outcome: 'accepted' });
      return details({ ...release, status: view.status }, view, null);
    },

    async list(appId, principal, filter) {
      await apps.get(appId, principal);
      return stores.releases.list({ appId, ...filter });
    },
  };
}

function details(release: Release, view: ReleaseView | null, published: PublishedState | null): ReleaseDetails {
  const stageIndex = view?.stageIndex ?? published?.stageIndex ?? 0;
  return {
    ...release,
    // Until its publish activity lands, the workflow is ahead of what devices and the one-active-release
    // check see; answering with its status then would let a caller act on a state not yet in effect.
    status: view && view.publishedRevision >= view.revision ? view.status : (published?.status ?? release.status),
    stageIndex,
    stageName: view?.stageName ?? release.plan.stages[stageIndex]?.name ?? null,
    phase: view?.phase ?? null,
    waitingSegments: view?.waitingSegments ?? [],
    exposure: view?.exposure ?? published?.exposure ?? {},
    soakedMs: view?.soakedMs ?? null,
    revision: view?.publishedRevision ?? published?.revision ?? 0,
    reason: view?.reason ?? published?.reason ?? null,
    gates: view?.gates ?? null,
    history: view?.history ?? [],
    live: view !== null,
  };
}

function activeConflict(active: Release): ConflictError {
  return new ConflictError(
    `release ${active.id} (${active.version}) is still ${active.status} on channel ${active.channel}; finish or abort it, or start with "supersede": true`,
    'release_active',
    { activeReleaseId: active.id, activeVersion: active.version, status: active.status },
  );
}
