import { allHandlersFinished, condition, continueAsNew, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/create-activities';
import {
  EXPERIMENT_COMMANDS,
  activeArms,
  applyExperimentCommand,
  applyExperimentEvaluation,
  armGateRequest,
  armSlices,
  experimentRefusal,
  experimentView,
  initialExperimentState,
  stoppedArms,
  type ExperimentContext,
  type ExperimentState,
  type ExperimentView,
} from '../domain/experiment-machine';
import { ROLLUP_STEPS } from '../domain/insight';
import { isTerminal } from '../domain/release';
import { accrueSoak, currentStage, enterStage, startSoak, view } from '../domain/rollout-machine';
import { setCommandHandlers } from './command-handlers';
import { experimentSignals, experimentStateQuery, experimentUpdates } from './experiment-messages';
import { RELEASE_ACTIVITY_OPTIONS, unlessInterrupted } from './rollout';
import { ReleaseStatusKey } from './search-attributes';

const acts = proxyActivities<Activities>(RELEASE_ACTIVITY_OPTIONS);

export interface ExperimentInput extends ExperimentContext {
  startedBy: string;
  /** The state of the previous run when the workflow continued as new. */
  carried?: ExperimentState;
}

/**
 * One experiment: ramps its exposure like a rollout, judges every check its arms' guardrails and
 * primary metric, and ends by promotion, abort, the time limit, or every arm stopped. The rules
 * live in the pure `experiment-machine`; this function only waits, calls activities and answers messages.
 */
export async function experiment(input: ExperimentInput): Promise<ExperimentView> {
  const { carried, startedBy, ...ctx } = input satisfies ExperimentInput;
  const context: ExperimentContext = ctx;
  let state: ExperimentState = carried ?? initialExperimentState(context, startedBy, Date.now());
  const show = () => experimentView(state, context, view(state.rollout, context));

  setHandler(experimentStateQuery, show);
  setCommandHandlers(EXPERIMENT_COMMANDS, experimentUpdates, experimentSignals, {
    refuse: (name, command) => experimentRefusal(state, context, name, command),
    apply: (name, command, origin) => {
      state = applyExperimentCommand(state, context, name, command, Date.now(), origin);
      return state.rollout.commandSeq;
    },
    settled: (seq) => state.rollout.settledSeq >= seq,
    view: show,
    subject: 'the experiment',
  });

  const commandPending = () => state.rollout.commandSeq > state.rollout.settledSeq;

  /** Publishes what devices must see, records transitions, then releases the commands waiting on them. */
  const flush = async () => {
    for (;;) {
      const settling = state.rollout.commandSeq;
      while (state.rollout.publishedRevision < state.rollout.revision) {
        const { revision, status, stageIndex, exposure, reason } = state.rollout;
        await acts.publishExperimentState({
          state: { releaseId: context.releaseId, appId: context.appId, revision, status, stageIndex, exposure, reason },
          experiment: { releaseId: context.releaseId, revision, stoppedArms: stoppedArms(state), promotedArm: state.promotedArm },
        });
        state = { ...state, rollout: { ...state.rollout, publishedRevision: Math.max(state.rollout.publishedRevision, revision) } };
      }
      if (workflowInfo().typedSearchAttributes.get(ReleaseStatusKey) !== state.rollout.status) {
        upsertSearchAttributes([{ key: ReleaseStatusKey, value: state.rollout.status }]);
      }
      const fresh = state.rollout.history.filter((t) => t.seq > state.rollout.deliveredSeq);
      if (fresh.length > 0) {
        await acts.recordTransitions({
          releaseId: context.releaseId,
          appId: context.appId,
          transitions: fresh,
          webhooks: { channel: context.channel, version: context.version },
        });
        state = { ...state, rollout: { ...state.rollout, deliveredSeq: Math.max(state.rollout.deliveredSeq, ...fresh.map((t) => t.seq)) } };
      }
      const r = state.rollout;
      const settled = r.commandSeq === settling && r.publishedRevision >= r.revision && r.nextSeq - 1 <= r.deliveredSeq;
      state = { ...state, rollout: { ...r, settledSeq: Math.max(r.settledSeq, settling) } };
      if (settled) return;
    }
  };

  for (;;) {
    await flush();
    if (isTerminal(state.rollout.status)) break;
    if (workflowInfo().continueAsNewSuggested) {
      await condition(() => commandPending() || allHandlersFinished());
      if (!commandPending()) await continueAsNew<typeof experiment>({ ...context, startedBy, carried: state });
      continue;
    }
    if (commandPending()) continue;

    if (state.rollout.status === 'paused') {
      await condition(commandPending);
      continue;
    }
    if (state.rollout.phase === 'entering') {
      const entered = enterStage(state.rollout, context, Date.now());
      state = { ...state, rollout: entered.state };
      if (entered.waitUntil !== null) {
        await flush();
        await condition(commandPending, Math.max(1, entered.waitUntil - Date.now()));
      }
      continue;
    }

    state = { ...state, rollout: startSoak(state.rollout, Date.now()) };
    if (await condition(commandPending, currentStage(state.rollout, context).checkIntervalMs)) continue;
    state = { ...state, rollout: accrueSoak(state.rollout, Date.now()) };
    const stageIndex = state.rollout.stageIndex;
    const result = await unlessInterrupted(commandPending, () =>
      acts.evaluateExperiment({
        releaseId: context.releaseId,
        windowMs: context.windowMs,
        from: state.rollout.gateCursor,
        to: Date.now() - context.plan.gateSettings.reportingLagMs,
        control: context.experiment.control,
        arms: activeArms(state).map((arm) => ({ arm, slices: armSlices(context, arm), request: armGateRequest(state, context, arm) })),
        metricsStepMs: ROLLUP_STEPS['5m'],
      }),
    );
    if (result === null) continue;
    state = applyExperimentEvaluation(state, context, { ...result, stageIndex }, Date.now());
  }

  await condition(allHandlersFinished);
  return show();
}
