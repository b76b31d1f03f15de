import { actorOf, canAccessApp, type Principal } from '../../domain/access';
import { ConflictError } from '../../domain/errors/conflict-error';
import { NotFoundError } from '../../domain/errors/not-found-error';
import type { ArmCommandName } from '../../domain/experiment-machine';
import { liveResults, storedResults, type ExperimentResults } from '../../domain/experiment-results';
import { experimentFeatures, type ExperimentDefinition } from '../../domain/experiment';
import { featureTracking, MAX_FEATURE_NAMES_PER_APP, OTHER_FEATURE } from '../../domain/insight';
import { isTerminal, type Release } from '../../domain/release';
import type { Stores } from '../../db/create-stores';
import { newId } from '../../platform/ids';
import type { ApiMetrics } from '../api-metrics';
import { auditByKey } from './app-audit';
import type { ReleaseService, StartedRelease, StartReleaseInput } from './release-service';
import type { RolloutClient } from './rollout-client';

export interface ExperimentService {
  /** Starts a release of kind experiment: the channel's one active release, like any other. */
  start(input: Omit<StartReleaseInput, 'experiment'> & { experiment: ExperimentDefinition }, principal: Principal): Promise<StartedRelease>;
  /** Per arm estimate, always-valid interval, sample, guardrails; the sample-ratio check and the winner. */
  results(releaseId: string, principal: Principal): Promise<ExperimentResults>;
  /** `stopArm` / `promoteArm`, answered with the results once devices see the change. */
  armCommand(releaseId: string, name: ArmCommandName, arm: string | undefined, reason: string, principal: Principal, idempotencyKey?: string): Promise<ExperimentResults>;
}

export interface ExperimentServiceDeps {
  stores: Pick<Stores, 'releases' | 'experiments' | 'rolloutStates' | 'audit'>;
  releases: ReleaseService;
  rollouts: RolloutClient;
  metrics: ApiMetrics;
}

export function createExperimentService(deps: ExperimentServiceDeps): ExperimentService {
  const { stores, rollouts } = deps;

  const getExperiment = async (releaseId: string, principal: Principal) => {
    const release = await stores.releases.get(releaseId);
    if (!release || !canAccessApp(principal, release.appId)) throw new NotFoundError(`no release ${releaseId}`);
    const stored = await stores.experiments.get(releaseId);
    if (!stored) throw new NotFoundError(`release ${releaseId} is not an experiment; GET /v1/releases/${releaseId} shows it`);
    return { release, stored };
  };

  const refused = async (release: Release, name: ArmCommandName, arm: string | undefined, reason: string, refusal: ConflictError, principal: Principal) => {
    deps.metrics.adminActions.inc({ action: `experiment.${name}`, outcome: 'refused' });
    await auditByKey(stores, principal, {
      action: 'release.command_refused',
      target: `release:${release.id}`,
      appId: release.appId,
      reason,
      details: { command: name, arm: arm ?? null, code: refusal.code, refusal: refusal.message, status: release.status },
    });
  };

  return {
    async start(input, principal) {
      const features = experimentFeatures(input.experiment);
      const kept = features.length === 0 ? [] : await stores.experiments.keptFeatureNames(input.appId);
      const untracked = features.filter((feature) => featureTracking(kept, feature) === 'other');
      if (untracked.length > 0) {
        throw new ConflictError(
          `app ${input.appId} already keeps ${MAX_FEATURE_NAMES_PER_APP} feature names and ${untracked.join(', ')} ${untracked.length === 1 ? 'is' : 'are'} not among them: their uses count under ${OTHER_FEATURE}; judge or guard kept names (GET the app's insight topFeatures)`,
          'feature_not_kept',
          { features: untracked },
        );
      }
      return deps.releases.start(input, principal);
    },

    async results(releaseId, principal) {
      const { release, stored } = await getExperiment(releaseId, principal);
      const [view, published] = await Promise.all([rollouts.queryExperiment(release.workflowId), stores.rolloutStates.get(releaseId)]);
      if (!view?.experiment) return storedResults(release, published, stored);
      // Until its publish lands the workflow is ahead of what devices see: show the status they see.
      const live = liveResults(view, stored.definition.alpha);
      return view.publishedRevision >= view.revision ? live : { ...live, status: published?.status ?? release.status, exposure: published?.exposure ?? live.exposure };
    },

    async armCommand(releaseId, name, arm, reason, principal, idempotencyKey) {
      const { release, stored } = await getExperiment(releaseId, principal);
      const updateId = idempotencyKey ? `${principal.keyId}:${idempotencyKey}` : newId();
      try {
        if (isTerminal(release.status)) {
          throw new ConflictError(`${name} refused: experiment ${release.id} is ${release.status} and can no longer change`, 'release_finished', { status: release.status });
        }
        const view = await rollouts.armCommand(release.workflowId, name, { actor: actorOf(principal), reason, ...(arm === undefined ? {} : { arm }) }, updateId);
        deps.metrics.adminActions.inc({ action: `experiment.${name}`, outcome: 'accepted' });
        return liveResults(view, stored.definition.alpha);
      } catch (err) {
        if (err instanceof ConflictError) await refused(release, name, arm, reason, err, principal);
        throw err;
      }
    },
  };
}
