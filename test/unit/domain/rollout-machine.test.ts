import { describe, expect, it } from 'vitest';
import type { GateEvaluation } from '../../../domain/gates/gate-types';
import { initialGateState } from '../../../domain/gates/initial-gate-state';
import type { Plan, PlanStage } from '../../../domain/plan';
import {
  accrueSoak,
  applyCommand,
  applyGateEvaluation,
  enterStage,
  gateRequest,
  HISTORY_LIMIT,
  initialRolloutState,
  planGateParameters,
  refusalOf,
  start,
  startSoak,
  view,
  waitingSegments,
  type RolloutContext,
  type RolloutState,
} from '../../../domain/rollout-machine';

const stage = (over: Partial<PlanStage>): PlanStage => ({
  name: 'stage',
  segments: ['default'],
  exposureBps: 1000,
  minSoakMs: 1000,
  maxSoakMs: 4000,
  checkIntervalMs: 100,
  ...over,
});

const plan = (stages: PlanStage[]): Plan => ({ stages, gateSettings: { alpha: 0.05, reportingLagMs: 0, dryRun: false } });

// Saturday 02:00–04:00 UTC; 2026-11-28 is a Saturday.
const SATURDAY_0100 = Date.UTC(2026, 10, 28, 1, 0);
const SATURDAY_0200 = Date.UTC(2026, 10, 28, 2, 0);

function context(stages: PlanStage[], windowed: string[] = []): RolloutContext {
  const segments = [...new Set(stages.flatMap((s) => s.segments))];
  return {
    releaseId: 'r1',
    appId: 'com.example.app',
    channel: 'production',
    version: '2.0.0',
    plan: plan(stages),
    segments: segments.map((key) => ({
      key,
      maintenanceWindows: windowed.includes(key) ? [{ days: [6], start: '02:00', end: '04:00', timeZone: 'UTC' }] : [],
    })),
    windowMs: 100,
  };
}

const cmd = { actor: 'key:oncall', reason: 'because' };

function evaluation(verdict: GateEvaluation['verdict'], message = `gate says ${verdict}`): GateEvaluation {
  return { state: initialGateState(), verdict, evidence: { windowStart: 0, windowEnd: 1, ratio: [], tripwire: [], findings: [{ gate: 'soak', verdict, dryRun: false, message }] } };
}

/** Starts a release and enters its first stage, as the workflow does. */
function baking(ctx: RolloutContext, now = 0): RolloutState {
  const entered = enterStage(start(initialRolloutState(now), ctx, 'key:release', now), ctx, now).state;
  return { ...entered, publishedRevision: entered.revision, lastTickAt: now };
}

describe('rollout machine', () => {
  const ctx = context([stage({ exposureBps: 1000 }), stage({ exposureBps: 5000 }), stage({ exposureBps: 10_000 })]);

  it('enters a stage by exposing its segments, then bakes', () => {
    const started = start(initialRolloutState(0), ctx, 'key:release', 0);
    expect(started).toMatchObject({ status: 'running', phase: 'entering', revision: 0, history: [{ seq: 1, event: 'started', actor: 'key:release' }] });
    const { state, waitUntil } = enterStage(started, ctx, 5);
    expect(waitUntil).toBeNull();
    expect(state).toMatchObject({ phase: 'baking', exposure: { default: 1000 }, revision: 1, soakedMs: 0, lastTickAt: null });
    expect(state.history.at(-1)).toMatchObject({ seq: 2, event: 'stage_started', exposure: { default: 1000 } });
  });

  it('counts soak only while running and baking', () => {
    let state = baking(ctx);
    state = accrueSoak(state, 300);
    expect(state.soakedMs).toBe(300);
    state = applyCommand(state, ctx, 'pause', cmd, 400);
    expect(state).toMatchObject({ status: 'paused', soakedMs: 400, lastTickAt: null });
    expect(accrueSoak(state, 10_000).soakedMs).toBe(400);
    state = applyCommand(state, ctx, 'resume', cmd, 10_000);
    expect(state).toMatchObject({ status: 'running', soakedMs: 400, lastTickAt: null, soakLimitMs: 4400 });
  });

  it('tells the gate when a bake started, so windows from before its publication are no sample-ratio evidence', () => {
    let state = baking(ctx);
    state = applyGateEvaluation(state, ctx, { evaluation: evaluation('advance'), windowEnd: 900, stageIndex: 0 }, 1000);
    state = enterStage(state, ctx, 1001).state;
    expect(state).toMatchObject({ stageIndex: 1, phase: 'baking', gateCursor: 900 });
    // Published at 1250: the window from 900 counted devices sliced by the 10 % stage too.
    state = startSoak({ ...state, publishedRevision: state.revision }, 1250);
    expect(state).toMatchObject({ lastTickAt: 1250, bakeStartedAt: 1250, gateCursor: 900 });
    expect(gateRequest(state, ctx).stage.bakeStartedAt).toBe(1250);
    expect(startSoak(state, 2000)).toBe(state);
  });

  it('advances stage by stage on the gate and completes at the end', () => {
    let state = baking(ctx);
    state = applyGateEvaluation(state, ctx, { evaluation: evaluation('advance'), windowEnd: 100, stageIndex: 0 }, 1000);
    expect(state).toMatchObject({ stageIndex: 1, phase: 'entering', soakedMs: 0, gateCursor: 100 });
    state = enterStage(state, ctx, 1001).state;
    expect(state.exposure).toEqual({ default: 5000 });
    state = applyGateEvaluation({ ...state, lastTickAt: 1001 }, ctx, { evaluation: evaluation('advance'), windowEnd: 200, stageIndex: 1 }, 2000);
    state = enterStage(state, ctx, 2001).state;
    state = applyGateEvaluation({ ...state, lastTickAt: 2001 }, ctx, { evaluation: evaluation('advance'), windowEnd: 300, stageIndex: 2 }, 3000);
    expect(state).toMatchObject({ status: 'completed', exposure: { default: 10_000 } });
    expect(state.history.map((t) => t.event)).toEqual(['started', 'stage_started', 'stage_started', 'stage_started', 'completed']);
  });

  it('rolls back on the gate: exposure drops to zero for good, with the gate findings as the reason', () => {
    const state = applyGateEvaluation(baking(ctx), ctx, { evaluation: evaluation('rollback', 'crash e-value 900 ≥ 400'), windowEnd: 100, stageIndex: 0 }, 500);
    expect(state).toMatchObject({ status: 'rolled_back', exposure: { default: 0 }, reason: 'crash e-value 900 ≥ 400' });
    expect(state.history.at(-1)).toMatchObject({ event: 'rolled_back', actor: 'rampart:gate', exposure: { default: 0 } });
    expect(refusalOf(state, ctx, 'resume', cmd)).toMatch(/rolled_back; nothing can change it/);
  });

  it('marks what a Signal caused as claimed: whoever reaches Temporal names any actor', () => {
    const state = baking(ctx);
    const bySignal = applyCommand(state, ctx, 'abort', { actor: 'key:bootstrap-admin', reason: 'looks bad' }, 1, 'signal');
    const claimed = (s: RolloutState) => s.history.map((t) => [t.event, t.actor, t.claimedBy]);
    expect(claimed(bySignal).slice(state.history.length)).toEqual([['aborted', 'key:bootstrap-admin', 'temporal-signal']]);
    expect(state.history.length).toBeGreaterThan(0);
    expect(claimed(bySignal).slice(0, state.history.length)).toEqual(claimed(state));
    expect(applyCommand(state, ctx, 'abort', cmd, 1).history.every((t) => t.claimedBy === undefined)).toBe(true);
  });

  it('pauses on an inconclusive gate and keeps only the evidence of a verdict that arrives after a command', () => {
    const paused = applyGateEvaluation(baking(ctx), ctx, { evaluation: evaluation('pause', 'no data'), windowEnd: 100, stageIndex: 0 }, 500);
    expect(paused).toMatchObject({ status: 'paused', reason: 'no data' });

    const onCall = applyCommand(baking(ctx), ctx, 'pause', cmd, 100);
    const late = applyGateEvaluation(onCall, ctx, { evaluation: evaluation('rollback'), windowEnd: 100, stageIndex: 0 }, 150);
    expect(late).toMatchObject({ status: 'paused', gateCursor: 100, lastGateReport: { verdict: 'rollback' } });
  });

  it('refuses commands that make no sense, with a message that says why', () => {
    const state = baking(ctx);
    expect(refusalOf(state, ctx, 'resume', cmd)).toBe('only a paused release can be resumed; it is running');
    expect(refusalOf(state, ctx, 'pause', { actor: 'x', reason: ' ' })).toMatch(/reason must be a non-empty string/);
    expect(refusalOf(state, ctx, 'pause', 'pause!')).toMatch(/actor/);
    expect(refusalOf(state, ctx, 'pause', cmd)).toBeNull();
    expect(refusalOf(applyCommand(state, ctx, 'pause', cmd, 1), ctx, 'pause', cmd)).toBe('the release is already paused');
    const windowed = context([stage({ segments: ['default', 'enterprise'], exposureBps: 10_000 })], ['enterprise']);
    const waitingFull = applyCommand(baking(windowed, SATURDAY_0100), windowed, 'promoteFull', cmd, SATURDAY_0100);
    expect(refusalOf(waitingFull, windowed, 'promote', cmd)).toMatch(/full promotion is already under way/);
    expect(refusalOf(applyCommand(state, ctx, 'promoteFull', cmd, 1), ctx, 'pause', cmd)).toMatch(/completed; nothing can change it/);
    expect(refusalOf(applyCommand(state, ctx, 'abort', cmd, 1), ctx, 'rollback', cmd)).toMatch(/aborted/);
  });

  it('promotes one stage at a time, from paused too', () => {
    const paused = applyCommand(baking(ctx), ctx, 'pause', cmd, 100);
    const promoted = applyCommand(paused, ctx, 'promote', cmd, 200);
    expect(promoted).toMatchObject({ status: 'running', stageIndex: 1, phase: 'baking', exposure: { default: 5000 } });
    expect(promoted.history.slice(-2)).toMatchObject([
      { event: 'promoted', from: 'paused', to: 'running' },
      { event: 'stage_started', exposure: { default: 5000 } },
    ]);
  });

  it('waits for a segment maintenance window before exposing it, and refuses to promote past the wait', () => {
    const windowed = context([stage({ segments: ['default', 'enterprise'], exposureBps: 10_000 })], ['enterprise']);
    const started = start(initialRolloutState(SATURDAY_0100), windowed, 'key:release', SATURDAY_0100);
    const first = enterStage(started, windowed, SATURDAY_0100);
    expect(first.waitUntil).toBe(SATURDAY_0200);
    expect(first.state).toMatchObject({ phase: 'entering', exposure: { default: 10_000 } });
    expect(waitingSegments(first.state, windowed)).toEqual(['enterprise']);
    expect(first.state.history.at(-1)).toMatchObject({ event: 'waiting_for_window' });
    expect(refusalOf(first.state, windowed, 'promote', cmd)).toMatch(/waiting for the maintenance window of enterprise/);
    expect(enterStage(first.state, windowed, SATURDAY_0100 + 60_000).state.history).toHaveLength(first.state.history.length);

    const opened = enterStage(first.state, windowed, SATURDAY_0200 + 1);
    expect(opened.state).toMatchObject({ phase: 'baking', exposure: { default: 10_000, enterprise: 10_000 } });
  });

  it('promotes fully through every remaining segment, still honouring maintenance windows', () => {
    const windowed = context([stage({ segments: ['default'], exposureBps: 100 }), stage({ segments: ['default', 'enterprise'], exposureBps: 10_000 })], ['enterprise']);
    const state = applyCommand(baking(windowed, SATURDAY_0100), windowed, 'promoteFull', cmd, SATURDAY_0100);
    const waiting = enterStage(state, windowed, SATURDAY_0100);
    expect(waiting.state).toMatchObject({ status: 'running', exposure: { default: 10_000 } });
    expect(waiting.waitUntil).toBe(SATURDAY_0200);
    const done = enterStage(waiting.state, windowed, SATURDAY_0200);
    expect(done.state).toMatchObject({ status: 'completed', exposure: { default: 10_000, enterprise: 10_000 } });
  });

  it('tells the gate about every exposed segment and the plan-wide parameters', () => {
    const twoSegments = context([
      stage({ segments: ['beta'], exposureBps: 10_000 }),
      stage({ segments: ['default'], exposureBps: 500 }),
      stage({ segments: ['default'], exposureBps: 10_000, gates: [{ kind: 'ratio', metric: 'crash', rDetect: 1.2 }] }),
    ]);
    // beta is only ever exposed at 100 %: it never has a control, so it takes no share of alpha.
    expect(planGateParameters(twoSegments.plan)).toEqual({ comparisons: 2, rDetectValues: [1.2, 1.3, 2, 3] });
    let state = baking(twoSegments);
    state = applyGateEvaluation(state, twoSegments, { evaluation: evaluation('advance'), windowEnd: 1, stageIndex: 0 }, 10);
    state = enterStage(state, twoSegments, 11).state;
    const request = gateRequest(state, twoSegments);
    expect(request.stage.exposureBps).toEqual({ beta: 10_000, default: 500 });
    expect(request.stage.advancingSegments).toEqual(['default']);
    expect(request.stage.rDetect).toBe(2);
    expect(request.gates.map((g) => g.kind)).toEqual(['ratio', 'ratio', 'tripwire', 'tripwire', 'crashRate']);
  });

  it('keeps a bounded history and a plain-JSON state', () => {
    let state = baking(ctx);
    for (let i = 0; i < HISTORY_LIMIT; i++) {
      state = applyCommand(state, ctx, 'pause', cmd, i * 2 + 1);
      state = applyCommand(state, ctx, 'resume', cmd, i * 2 + 2);
    }
    expect(state.history).toHaveLength(HISTORY_LIMIT);
    expect(state.history.at(-1)!.seq).toBe(2 + 2 * HISTORY_LIMIT);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    expect(view(state, ctx)).toMatchObject({ releaseId: 'r1', status: 'running', stageName: 'stage', waitingSegments: [] });
  });
});
