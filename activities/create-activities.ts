import { ApplicationFailure } from '@temporalio/activity';
import type { RolloutState } from '../domain/release';
import type { RolloutStateStore } from '../db/stores/rollout-state-store';
import type { Logger } from '../platform/logger';
import type { ActivityMetrics } from './activity-metrics';

export interface ActivityDeps {
  rolloutStates: RolloutStateStore;
  logger: Logger;
  metrics: ActivityMetrics;
}

export interface PublishResult {
  /** False when an equal or newer revision was already stored (a retried publish). */
  written: boolean;
}

export function createActivities(deps: ActivityDeps) {
  return {
    /** Makes a workflow decision visible to devices; idempotent thanks to the revision guard. */
    async publishRolloutState(state: RolloutState): Promise<PublishResult> {
      if (!Number.isInteger(state.revision) || state.revision < 1) {
        throw ApplicationFailure.nonRetryable(`invalid revision ${state.revision}`, 'InvalidRolloutState');
      }
      const written = await deps.rolloutStates.publish(state);
      deps.metrics.published.inc({ status: state.status, written: String(written) });
      if (!written) deps.logger.info({ releaseId: state.releaseId, revision: state.revision }, 'stale publish ignored');
      return { written };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
