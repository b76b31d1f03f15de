import { proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/create-activities';
import type { Plan } from '../domain/plan';
import type { Exposure, ReleaseStatus } from '../domain/release';
import type { ReleaseView, Transition } from '../domain/rollout-view';
import { stateQuery } from './messages';

const { publishRolloutState } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['InvalidRolloutState'] },
});

export interface RolloutInput {
  releaseId: string;
  appId: string;
  channel: string;
  version: string;
  plan: Plan;
  startedBy: string;
}

interface RolloutState {
  status: ReleaseStatus;
  stageIndex: number;
  exposure: Exposure;
  revision: number;
  publishedRevision: number;
  history: Transition[];
}

export async function rollout(input: RolloutInput): Promise<ReleaseView> {
  const state: RolloutState = { status: 'running', stageIndex: 0, exposure: {}, revision: 0, publishedRevision: 0, history: [] };
  const view = (): ReleaseView => ({
    releaseId: input.releaseId,
    appId: input.appId,
    channel: input.channel,
    version: input.version,
    status: state.status,
    stageIndex: state.stageIndex,
    stageName: input.plan.stages[state.stageIndex]?.name ?? null,
    exposure: state.exposure,
    revision: state.revision,
    publishedRevision: state.publishedRevision,
    plan: input.plan,
    history: state.history,
  });
  setHandler(stateQuery, view);

  const publish = async (reason: string) => {
    state.revision += 1;
    await publishRolloutState({
      releaseId: input.releaseId,
      appId: input.appId,
      revision: state.revision,
      status: state.status,
      stageIndex: state.stageIndex,
      exposure: state.exposure,
      reason,
    });
    state.publishedRevision = state.revision;
  };

  for (const [index, stage] of input.plan.stages.entries()) {
    state.stageIndex = index;
    state.exposure = { ...state.exposure, ...Object.fromEntries(stage.segments.map((s) => [s, stage.exposureBps])) };
    await publish(`stage ${stage.name}`);
    await sleep(stage.minSoakMs);
  }
  state.history.push({ at: Date.now(), from: state.status, to: 'completed', stageIndex: state.stageIndex, actor: 'rampart', reason: 'plan finished' });
  state.status = 'completed';
  await publish('plan finished');
  return view();
}
