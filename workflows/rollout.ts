import {
  type ActivityOptions,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/create-activities';
import { isTerminal } from '../domain/release';
import {
  COMMANDS,
  accrueSoak,
  applyCommand,
  applyGateEvaluation,
  currentStage,
  enterStage,
  gateRequest,
  initialRolloutState,
  refusalOf,
  start,
  startSoak,
  view,
  type RolloutContext,
  type RolloutState,
} from '../domain/rollout-machine';
import type { ReleaseView } from '../domain/rollout-view';
import { setCommandHandlers } from './command-handlers';
import { commandSignals, commandUpdates, stateQuery } from './messages';
import { ReleaseStatusKey } from './search-attributes';

/** Publishing, gate reads and recording: short, retried until they succeed unless the input is invalid. */
export const RELEASE_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '500 ms',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: ['InvalidRolloutState', 'InvalidGateRequest'],
  },
};

const acts = proxyActivities<Activities>(RELEASE_ACTIVITY_OPTIONS);

// Runs from before the outbox notify from the workflow: webhooks run beside it and give up after an hour.
const notifier = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 hour',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * Patches (see `patched`): runs recorded before them replay the old path. `webhook-outbox`: the
 * activity that records transitions also writes their webhook deliveries to the outbox, which the
 * worker drains, so nothing waits for receivers. `gate-read-yields`: a command cancels a gate read
 * in flight and the stale result is discarded, so the command is published at once.
 */
const OUTBOX_PATCH = 'webhook-outbox';
const GATE_READ_PATCH = 'gate-read-yields';

/** The work's result, or null when `interrupted` became true first (the work is then cancelled). */
export async function unlessInterrupted<T>(interrupted: () => boolean, work: () => Promise<T>): Promise<T | null> {
  const scope = new CancellationScope();
  try {
    return await scope.run(() => Promise.race([work(), condition(interrupted).then(() => null)]));
  } finally {
    // Cancels whichever lost: the activity (its result would be stale) or the waiting condition.
    scope.cancel();
  }
}

export interface RolloutInput extends RolloutContext {
  startedBy: string;
  /** The state of the previous run when the workflow continued as new. */
  carried?: RolloutState;
}

/**
 * One release: walks its plan stage by stage, publishing each exposure before baking it, asks the
 * gate every check interval, and ends completed, rolled back or aborted. The rules live in the pure
 * `rollout-machine`; this function only waits, calls activities and answers messages.
 */
export async function rollout(input: RolloutInput): Promise<ReleaseView> {
  const { carried, startedBy, ...ctx } = input satisfies RolloutInput;
  const context: RolloutContext = ctx;
  let state: RolloutState = carried ?? start(initialRolloutState(Date.now()), context, startedBy, Date.now());
  const notifications: Array<Promise<void>> = [];

  setHandler(stateQuery, () => view(state, context));
  setCommandHandlers(COMMANDS, commandUpdates, commandSignals, {
    refuse: (name, command) => refusalOf(state, context, name, command),
    apply: (name, command, origin) => {
      state = applyCommand(state, context, name, command, Date.now(), origin);
      return state.commandSeq;
    },
    settled: (seq) => state.settledSeq >= seq,
    view: () => view(state, context),
    subject: 'the release',
  });

  const commandPending = () => state.commandSeq > state.settledSeq;

  /**
   * Publishes what devices must see, records transitions, then releases the commands waiting on
   * them; repeats until nothing is left, because commands may arrive while it awaits activities.
   */
  const flush = async () => {
    for (;;) {
      const settling = state.commandSeq;
      while (state.publishedRevision < state.revision) {
        const { revision, status, stageIndex, exposure, reason, withdrawnSegments } = state;
        // Only personalized releases ever withdraw a segment; the activity's input is otherwise unchanged.
        const withdrawn = withdrawnSegments ? { withdrawnSegments } : {};
        await acts.publishRolloutState({ releaseId: context.releaseId, appId: context.appId, revision, status, stageIndex, exposure, reason, ...withdrawn });
        state = { ...state, publishedRevision: Math.max(state.publishedRevision, revision) };
      }
      if (workflowInfo().typedSearchAttributes.get(ReleaseStatusKey) !== state.status) {
        upsertSearchAttributes([{ key: ReleaseStatusKey, value: state.status }]);
      }
      const fresh = state.history.filter((t) => t.seq > state.deliveredSeq);
      if (fresh.length > 0) {
        const outbox = patched(OUTBOX_PATCH);
        const webhooks = outbox ? { webhooks: { channel: context.channel, version: context.version } } : {};
        await acts.recordTransitions({ releaseId: context.releaseId, appId: context.appId, transitions: fresh, ...webhooks });
        state = { ...state, deliveredSeq: Math.max(state.deliveredSeq, ...fresh.map((t) => t.seq)) };
        for (const transition of outbox ? [] : fresh) {
          notifications.push(
            notifier
              .notify({ releaseId: context.releaseId, appId: context.appId, channel: context.channel, version: context.version, transition })
              .catch((err: unknown) => log.warn('webhook delivery gave up', { seq: transition.seq, error: String(err) })),
          );
        }
      }
      const settled = state.commandSeq === settling && state.publishedRevision >= state.revision && state.nextSeq - 1 <= state.deliveredSeq;
      state = { ...state, settledSeq: Math.max(state.settledSeq, settling) };
      if (settled) return;
    }
  };

  for (;;) {
    await flush();
    if (isTerminal(state.status)) break;
    if (workflowInfo().continueAsNewSuggested) {
      // A command arriving meanwhile must be settled in this run: its caller waits for the answer.
      await Promise.all(notifications);
      await condition(() => commandPending() || allHandlersFinished());
      if (!commandPending()) await continueAsNew<typeof rollout>({ ...context, startedBy, carried: state });
      continue;
    }
    if (commandPending()) continue;

    if (state.status === 'paused') {
      await condition(commandPending);
      continue;
    }
    if (state.phase === 'entering') {
      const entered = enterStage(state, context, Date.now());
      state = entered.state;
      if (entered.waitUntil !== null) {
        await flush();
        await condition(commandPending, Math.max(1, entered.waitUntil - Date.now()));
      }
      continue;
    }

    // Baking. The soak clock starts only once the stage's exposure is published (flushed above).
    state = startSoak(state, Date.now());
    if (await condition(commandPending, currentStage(state, context).checkIntervalMs)) continue;
    state = accrueSoak(state, Date.now());
    const stageIndex = state.stageIndex;
    const read = () =>
      acts.evaluateGates({
        releaseId: context.releaseId,
        windowMs: context.windowMs,
        from: state.gateCursor,
        to: Date.now() - context.plan.gateSettings.reportingLagMs,
        request: gateRequest(state, context),
      });
    const result = patched(GATE_READ_PATCH) ? await unlessInterrupted(commandPending, read) : await read();
    if (result === null) continue;
    state = applyGateEvaluation(state, context, { ...result, stageIndex }, Date.now());
  }

  await condition(allHandlersFinished);
  await Promise.all(notifications);
  return view(state, context);
}
