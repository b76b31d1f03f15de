import { defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/create-activities';
import type { Command } from '../domain/rollout-machine';
import type { Exposure } from '../domain/release';
import type { RevertResult, Transition } from '../domain/rollout-view';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['NotRevertible'] },
});

export interface RevertReleaseInput extends Command {
  releaseId: string;
  appId: string;
  channel: string;
  version: string;
  /** Where the finished rollout left off: its last transition's seq, stage and exposure. */
  lastSeq: number;
  stageIndex: number;
  exposure: Exposure;
}

/** The revert's transition once it is in effect; null before. */
export const revertQuery = defineQuery<Transition | null>('revert');

export function revertWorkflowIdFor(releaseId: string): string {
  return `revert-${releaseId}`;
}

/**
 * Withdraws a completed release: its devices are told to go back to its baseline. A workflow of its
 * own (id `revert-<releaseId>`, one per release ever) rather than a new run of the rollout: the
 * rollout's closed history stays the record of how the release went, the revert cannot re-run any
 * of the rollout's logic (stages, gates), and Temporal's id policy makes a second revert impossible.
 * The transition continues the rollout's sequence, so audit and webhook keys stay unique.
 */
export async function revertRelease(input: RevertReleaseInput): Promise<RevertResult> {
  let done: Transition | null = null;
  setHandler(revertQuery, () => done);
  const withdrawn = Object.fromEntries(Object.keys(input.exposure).map((segment) => [segment, 0]));
  const result = await acts.revertCompletedRelease({
    releaseId: input.releaseId,
    appId: input.appId,
    webhooks: { channel: input.channel, version: input.version },
    transition: {
      seq: input.lastSeq + 1,
      at: Date.now(),
      event: 'rolled_back',
      from: 'completed',
      to: 'rolled_back',
      stageIndex: input.stageIndex,
      exposure: withdrawn,
      actor: input.actor,
      reason: input.reason,
    },
  });
  done = result.transition;
  return result;
}
