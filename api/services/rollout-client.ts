import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { ArmCommand, ArmCommandName, ExperimentView } from '../../domain/experiment-machine';
import type { Command, CommandName } from '../../domain/rollout-machine';
import type { ReleaseView, RevertResult, Transition } from '../../domain/rollout-view';
import { ConflictError } from '../../domain/errors/conflict-error';
import { UnavailableError } from '../../domain/errors/unavailable-error';
import { isGrpcDeadline, isTemporalUnreachable, workflowRunState, type WorkflowRunState } from '../../platform/workflow-status';
import type { ExperimentInput } from '../../workflows/experiment';
import { experimentStateQuery, experimentUpdates } from '../../workflows/experiment-messages';
import { commandUpdates, stateQuery } from '../../workflows/messages';
import { revertQuery, revertWorkflowIdFor, type RevertReleaseInput, type revertRelease } from '../../workflows/revert-release';
import type { RolloutInput } from '../../workflows/rollout';
import { AppIdKey, ReleaseChannelKey, ReleaseStatusKey, ReleaseVersionKey } from '../../workflows/search-attributes';

export interface RolloutClient {
  start(workflowId: string, input: RolloutInput): Promise<void>;
  /** Starts an experiment's workflow (a release of kind experiment); its release commands are `command`'s. */
  startExperiment(workflowId: string, input: ExperimentInput): Promise<void>;
  /** `stopArm` or `promoteArm` of an experiment, as `command` sends the others. */
  armCommand(workflowId: string, name: ArmCommandName, command: ArmCommand, updateId: string): Promise<ExperimentView>;
  /** The experiment's live state with its arms and results; null when Temporal cannot answer right now. */
  queryExperiment(workflowId: string): Promise<ExperimentView | null>;
  /**
   * Sends a command as a Temporal Update and answers with the state devices now see. The same
   * `updateId` on the same run returns the first result, so a retried request acts once.
   */
  command(workflowId: string, name: CommandName, command: Command, updateId: string): Promise<ReleaseView>;
  /** The live state from the workflow; null when Temporal cannot answer right now (within `timeoutMs`, default the client's). */
  queryState(workflowId: string, timeoutMs?: number): Promise<ReleaseView | null>;
  /**
   * Runs the revert workflow of a completed release and answers once devices are served the
   * rollback. A release has one revert ever: a second call joins the first and gets its result.
   */
  revert(input: RevertReleaseInput): Promise<RevertResult>;
  /** The revert's transition, or null when there was none (or Temporal cannot answer now). */
  revertOf(releaseId: string): Promise<Transition | null>;
  /** Whether the release's workflow is open, closed (and how), or was never started. */
  runState(workflowId: string): Promise<WorkflowRunState>;
  isHealthy(): Promise<boolean>;
}

export interface RolloutClientDeps {
  client: Client;
  taskQueue: string;
  queryTimeoutMs?: number;
  /**
   * How long a start or a command may take. An Update waits for a worker to run the workflow, so
   * without a deadline an admin call hangs for as long as every worker is down.
   */
  commandTimeoutMs?: number;
}

const HEALTH_TIMEOUT_MS = 2000;

/** What Temporal's listing shows of a release, whichever workflow runs for it. */
const releaseSearchAttributes = (release: { appId: string; version: string; channel: string }) => [
  { key: AppIdKey, value: release.appId },
  { key: ReleaseVersionKey, value: release.version },
  { key: ReleaseChannelKey, value: release.channel },
];

const temporalUnavailable = () =>
  new UnavailableError('Temporal cannot be reached right now; retry later (devices are still served from the last published state)', 'temporal_unavailable');

/** The API's only door to Temporal: business workflow ids, one run per release, typed messages. */
export function createRolloutClient({ client, taskQueue, queryTimeoutMs = 5000, commandTimeoutMs = 10_000 }: RolloutClientDeps): RolloutClient {
  const isHealthy = async () => {
    try {
      await client.withDeadline(Date.now() + HEALTH_TIMEOUT_MS, () => client.workflowService.getSystemInfo({}));
      return true;
    } catch {
      return false;
    }
  };

  /** A command that ran out of time: Temporal itself is down, or it is up and no worker runs the workflow. */
  const timedOut = async (name: CommandName | ArmCommandName): Promise<UnavailableError> => {
    if (!(await isHealthy())) return temporalUnavailable();
    return new UnavailableError(
      `${name} was not applied within ${commandTimeoutMs} ms: no worker is running the release's workflow. ` +
        'It may still take effect once a worker is back; check the release before retrying (a retry with the same Idempotency-Key acts once)',
      'worker_unavailable',
    );
  };

  const startWorkflow = async (workflowType: 'rollout' | 'experiment', workflowId: string, input: RolloutInput | ExperimentInput): Promise<void> => {
    try {
      await client.withDeadline(Date.now() + commandTimeoutMs, () => client.workflow.start(workflowType, {
        workflowId,
        taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [...releaseSearchAttributes(input), { key: ReleaseStatusKey, value: 'running' }],
      }));
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new ConflictError(`workflow ${workflowId} exists already`, 'workflow_exists');
      }
      if (isTemporalUnreachable(err)) throw temporalUnavailable();
      throw err;
    }
  };

  const update = async <T>(workflowId: string, name: CommandName | ArmCommandName, send: (handle: WorkflowHandle) => Promise<T>): Promise<T> => {
    try {
      return await client.withDeadline(Date.now() + commandTimeoutMs, () => send(client.workflow.getHandle(workflowId)));
    } catch (err) {
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadline(err)) throw await timedOut(name);
      if (isTemporalUnreachable(err)) throw temporalUnavailable();
      if (err instanceof WorkflowUpdateFailedError) {
        const cause = err.cause instanceof ApplicationFailure ? err.cause.message : String(err.cause ?? err.message);
        throw new ConflictError(`${name} refused: ${cause}`, 'command_refused');
      }
      if (err instanceof WorkflowNotFoundError) {
        throw new ConflictError(`${name} refused: the release's workflow has finished; nothing can change it any more`, 'release_finished');
      }
      throw err;
    }
  };

  return {
    start: (workflowId, input) => startWorkflow('rollout', workflowId, input),
    startExperiment: (workflowId, input) => startWorkflow('experiment', workflowId, input),
    command: (workflowId, name, command, updateId) => update(workflowId, name, (handle) => handle.executeUpdate(commandUpdates[name], { args: [command], updateId })),
    armCommand: (workflowId, name, command, updateId) => update(workflowId, name, (handle) => handle.executeUpdate(experimentUpdates[name], { args: [command], updateId })),
    async queryExperiment(workflowId) {
      try {
        return await client.withDeadline(Date.now() + queryTimeoutMs, () => client.workflow.getHandle(workflowId).query(experimentStateQuery));
      } catch {
        return null;
      }
    },
    async revert(input) {
      const workflowId = revertWorkflowIdFor(input.releaseId);
      try {
        return await client.withDeadline(Date.now() + commandTimeoutMs, async () => {
          await client.workflow
            .start('revertRelease', {
              workflowId,
              taskQueue,
              args: [input],
              workflowIdConflictPolicy: 'USE_EXISTING',
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
              typedSearchAttributes: releaseSearchAttributes(input),
            })
            // Reverted before (a retried request): its result is the answer.
            .catch((err: unknown) => {
              if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            });
          return client.workflow.getHandle<typeof revertRelease>(workflowId).result();
        });
      } catch (err) {
        if (err instanceof WorkflowFailedError) throw new ConflictError(`rollback refused: ${err.cause?.message ?? err.message}`, 'command_refused');
        if (isGrpcDeadline(err)) throw await timedOut('rollback');
        if (isTemporalUnreachable(err)) throw temporalUnavailable();
        throw err;
      }
    },
    async revertOf(releaseId) {
      try {
        return await client.withDeadline(Date.now() + queryTimeoutMs, () => client.workflow.getHandle(revertWorkflowIdFor(releaseId)).query(revertQuery));
      } catch {
        return null;
      }
    },
    async queryState(workflowId, timeoutMs = queryTimeoutMs) {
      try {
        // A deadline, not a race: the call (and the SDK's retries of it) must end when the caller gives up.
        return await client.withDeadline(Date.now() + timeoutMs, () => client.workflow.getHandle(workflowId).query(stateQuery));
      } catch {
        return null;
      }
    },
    async runState(workflowId) {
      try {
        return await workflowRunState(client, workflowId, queryTimeoutMs);
      } catch (err) {
        if (isTemporalUnreachable(err)) throw temporalUnavailable();
        throw err;
      }
    },
    isHealthy,
  };
}
