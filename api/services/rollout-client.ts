import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { Command, CommandName } from '../../domain/rollout-machine';
import type { ReleaseView } from '../../domain/rollout-view';
import { ConflictError } from '../../domain/errors/conflict-error';
import { commandUpdates, stateQuery } from '../../workflows/messages';
import type { RolloutInput } from '../../workflows/rollout';
import { AppIdKey, ReleaseChannelKey, ReleaseStatusKey, ReleaseVersionKey } from '../../workflows/search-attributes';

export interface RolloutClient {
  start(workflowId: string, input: RolloutInput): Promise<void>;
  /**
   * Sends a command as a Temporal Update and answers with the state devices now see. The same
   * `updateId` on the same run returns the first result, so a retried request acts once.
   */
  command(workflowId: string, name: CommandName, command: Command, updateId: string): Promise<ReleaseView>;
  /** The live state from the workflow; null when Temporal cannot answer right now. */
  queryState(workflowId: string): Promise<ReleaseView | null>;
  isHealthy(): Promise<boolean>;
}

export interface RolloutClientDeps {
  client: Client;
  taskQueue: string;
  queryTimeoutMs?: number;
}

/** The API's only door to Temporal: business workflow ids, one run per release, typed messages. */
export function createRolloutClient({ client, taskQueue, queryTimeoutMs = 5000 }: RolloutClientDeps): RolloutClient {
  return {
    async start(workflowId, input) {
      try {
        await client.workflow.start('rollout', {
          workflowId,
          taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: AppIdKey, value: input.appId },
            { key: ReleaseVersionKey, value: input.version },
            { key: ReleaseChannelKey, value: input.channel },
            { key: ReleaseStatusKey, value: 'running' },
          ],
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new ConflictError(`workflow ${workflowId} exists already`, 'workflow_exists');
        }
        throw err;
      }
    },
    async command(workflowId, name, command, updateId) {
      try {
        return await client.workflow.getHandle(workflowId).executeUpdate(commandUpdates[name], { args: [command], updateId });
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) {
          const cause = err.cause instanceof ApplicationFailure ? err.cause.message : String(err.cause ?? err.message);
          throw new ConflictError(`${name} refused: ${cause}`, 'command_refused');
        }
        if (err instanceof WorkflowNotFoundError) {
          throw new ConflictError(`${name} refused: the release's workflow has finished; nothing can change it any more`, 'release_finished');
        }
        throw err;
      }
    },
    async queryState(workflowId) {
      try {
        const handle = client.workflow.getHandle(workflowId);
        return await withTimeout(handle.query(stateQuery), queryTimeoutMs);
      } catch {
        return null;
      }
    },
    async isHealthy() {
      try {
        await withTimeout(client.workflowService.getSystemInfo({}), 2000);
        return true;
      } catch {
        return false;
      }
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
