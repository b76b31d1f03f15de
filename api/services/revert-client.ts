import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import { ConflictError } from '../../domain/errors/conflict-error';
import type { RevertResult, Transition } from '../../domain/rollout-view';
import { revertQuery, revertWorkflowIdFor, type RevertReleaseInput, type revertRelease } from '../../workflows/revert-release';
import { AppIdKey, ReleaseChannelKey, ReleaseVersionKey } from '../../workflows/search-attributes';

export interface RevertClient {
  /**
   * Runs the revert workflow of a completed release and answers once devices are served the
   * rollback. A release has one revert ever: a second call joins the first and gets its result.
   */
  revert(input: RevertReleaseInput): Promise<RevertResult>;
  /** The revert's transition, or null when there was none (or Temporal cannot answer now). */
  revertOf(releaseId: string): Promise<Transition | null>;
}

export function createRevertClient({ client, taskQueue, queryTimeoutMs = 5000 }: { client: Client; taskQueue: string; queryTimeoutMs?: number }): RevertClient {
  return {
    async revert(input) {
      const workflowId = revertWorkflowIdFor(input.releaseId);
      try {
        await client.workflow.start('revertRelease', {
          workflowId,
          taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: AppIdKey, value: input.appId },
            { key: ReleaseVersionKey, value: input.version },
            { key: ReleaseChannelKey, value: input.channel },
          ],
        });
      } catch (err) {
        // Reverted before (a retried request): its result is the answer.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      try {
        return await client.workflow.getHandle<typeof revertRelease>(workflowId).result();
      } catch (err) {
        if (err instanceof WorkflowFailedError) {
          throw new ConflictError(`rollback refused: ${err.cause?.message ?? err.message}`, 'command_refused');
        }
        throw err;
      }
    },
    async revertOf(releaseId) {
      try {
        const query = client.workflow.getHandle(revertWorkflowIdFor(releaseId)).query(revertQuery);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), queryTimeoutMs);
        });
        try {
          return await Promise.race([query, timeout]);
        } finally {
          clearTimeout(timer);
        }
      } catch {
        return null;
      }
    },
  };
}
