import { describe, expect, it } from 'vitest';
import {
  applyExperimentCommand,
  applyExperimentEvaluation,
  armGateRequest,
  experimentRefusal,
  initialExperimentState,
  stoppedArms,
  type ArmMetrics,
  type ExperimentContext,
  type ExperimentEvaluation,
  type ExperimentState,
} from '../../../domain/experiment-machine';
import { DEFAULT_GATE_SETTINGS } from '../../../domain/gates/gate-spec';
import type { GateEvaluation, GateVerdict } from '../../../domain/gates/gate-types';
import { initialGateState } from '../../../domain/gates/initial-gate-state';
import { enterStage, startSoak } from '../../../domain/rollout-machine';

const T0 = 1_000_000;

const ctx = (over: Partial<ExperimentContext['experiment']> = {}, stages = [10_000]): ExperimentContext => ({
  releaseId: 'x1',
  appId: 'com.example.app',
  channel: 'production',
  version: '1.1.0',
  windowMs: 100,
  segments: [{ key: 'default', maintenanceWindows: [] }],
  plan: {
    stages: stages.map((exposureBps, i) => ({ name: `s${i}`, segments: ['default'], exposureBps, minSoakMs: 0, maxSoakMs: 1000, checkIntervalMs: 100 })),
    gateSettings: DEFAULT_GATE_SETTINGS,
  },
  experiment: {
    arms: [
      { key: 'a', version: null, weight: 1, installMode: 'next_launch' },
      { key: 'b', version: '1.1.0', weight: 1, installMode: 'next_launch' },
      { key: 'c', version: '1.2.0', weight: 1, installMode: 'immediate' },
    ],
    control: 'a',
    primary: { metric: 'session_duration', direction: 'higher' },
    guardrails: ['crash_free_sessions'],
    timeLimitMs: 10_000,
    alpha: 0.05,
    minSamplePerArm: 50,
    ...over,
  },
});

/** An experiment baking its first stage. */
function baking(c: ExperimentContext): ExperimentState {
  const state = initialExperimentState(c, 'tester', T0);
  return { ...state, rollout: startSoak(enterStage(state.rollout, c, T0).state, T0) };
}

const gate = (verdict: GateVerdict, message = `gate says ${verdict}`): GateEvaluation => ({
  state: initialGateState(),
  verdict,
  evidence: { windowStart: T0, windowEnd: T0 + 100, ratio: [], tripwire: [], findings: [{ gate: 'ratio', metric: 'crash', verdict, dryRun: false, message }] },
});

const metrics = (n: number, meanB = 60_000, devices = 100): Record<string, ArmMetrics> =>
  Object.fromEntries(
    ['a', 'b', 'c'].map((arm) => {
      const mean = arm === 'b' ? meanB : 60_000;
      // A spread of ±6 s around the mean: sum of squares of n values mean ± 6000.
      return [arm, { devices, timedSessions: n, sessionMsSum: n * mean, sessionMsSquares: n * (mean * mean + 36e6), installsOk: 0, installsFailed: 0, activeDeviceBuckets: 0, onArmDeviceBuckets: 0, sessions: n, featureUses: 0 }];
    }),
  );

const evaluation = (arms: Record<string, GateEvaluation>, m: Record<string, ArmMetrics> | null = metrics(0), windowEnd = T0 + 100): ExperimentEvaluation => ({
  arms,
  windows: {},
  metrics: m,
  windowEnd,
  stageIndex: 0,
});

const command = { actor: 'alice', reason: 'because' };

describe('experiment guardrails', () => {
  it('stops the harmful arm alone and keeps the others running', () => {
    const c = ctx();
    const next = applyExperimentEvaluation(baking(c), c, evaluation({ b: gate('continue'), c: gate('rollback', 'crash ratio too high') }), T0 + 200);
    expect(stoppedArms(next)).toEqual(['c']);
    expect(next.rollout.status).toBe('running');
    expect(next.arms.c!.stoppedReason).toMatch(/crash ratio too high/);
    expect(next.rollout.history.at(-1)).toMatchObject({ event: 'arm_stopped', actor: 'rampart:experiment:guardrail' });
    expect(next.rollout.revision).toBeGreaterThan(baking(c).rollout.revision);
  });

  it('ends the experiment rolled back when every treatment arm is stopped', () => {
    const c = ctx();
    const next = applyExperimentEvaluation(baking(c), c, evaluation({ b: gate('rollback'), c: gate('rollback') }), T0 + 200);
    expect(next.rollout.status).toBe('rolled_back');
    expect(next.rollout.exposure).toEqual({ default: 0 });
  });

  it('pauses the whole experiment when a guardrail pauses (data quality)', () => {
    const c = ctx();
    const next = applyExperimentEvaluation(baking(c), c, evaluation({ b: gate('pause'), c: gate('continue') }), T0 + 200);
    expect(next.rollout.status).toBe('paused');
  });

  it('compares each arm with the control arm as a pair, so the gates judge even at full exposure', () => {
    const c = ctx();
    const request = armGateRequest(baking(c), c, 'b');
    expect(request.stage.exposureBps).toEqual({ default: 5000 });
    expect(request.gates).toEqual([{ kind: 'ratio', metric: 'crash' }]);
    // Two arms, one ratio metric, one segment.
    expect(request.comparisons).toBe(2);
  });

  it('folds the windows read whatever it decides, so no window is counted twice', () => {
    const c = ctx();
    const next = applyExperimentEvaluation(baking(c), c, evaluation({ b: gate('rollback'), c: gate('continue') }, metrics(0), T0 + 5000), T0 + 200);
    expect(next.rollout.gateCursor).toBe(T0 + 5000);
  });
});

describe('metric guardrails', () => {
  /** Arms' session lengths (ms, ±6 s spread) and checkout uses per session over n sessions each. */
  const usage = (n: number, meanMs: Record<string, number>, checkoutPerSession: Record<string, number> = {}): Record<string, ArmMetrics> =>
    Object.fromEntries(
      Object.entries(metrics(n)).map(([arm, m]) => {
        const mean = meanMs[arm] ?? 60_000;
        const uses = Math.round((checkoutPerSession[arm] ?? 0.4) * n);
        return [arm, { ...m, sessionMsSum: n * mean, sessionMsSquares: n * (mean * mean + 36e6), guardedFeatureUses: { checkout: uses } }];
      }),
    );
  const check = (c: ExperimentContext, m: Record<string, ArmMetrics>) =>
    applyExperimentEvaluation(baking(c), c, evaluation({ b: gate('continue'), c: gate('continue') }, m), T0 + 200);

  it('stops an arm proven to shorten sessions, alone, saying by how much', () => {
    const c = ctx({ primary: { metric: 'adoption', direction: 'higher' }, metricGuardrails: [{ metric: 'session_duration', maxDrop: 0 }] });
    const next = check(c, usage(400, { c: 48_000 }));
    expect(stoppedArms(next)).toEqual(['c']);
    expect(next.rollout.status).toBe('running');
    expect(next.arms.c!.stoppedReason).toMatch(/^session_duration -20\.0 % vs the control \(always-valid interval -2\d\.\d % … -1\d\.\d %\), more than the \+?0\.0 % drop/);
    expect(next.look?.guardrails?.find((v) => v.arm === 'b')).toMatchObject({ harmful: false, metric: 'session_duration' });
  });

  it('lets an arm keep a drop within its allowance, and stops it without one', () => {
    const allowed = ctx({ primary: { metric: 'adoption', direction: 'higher' }, metricGuardrails: [{ metric: 'session_duration', maxDrop: 0.05 }] });
    const slight = usage(2000, { c: 58_800 });
    expect(stoppedArms(check(allowed, slight))).toEqual([]);
    const strict = ctx({ primary: { metric: 'adoption', direction: 'higher' }, metricGuardrails: [{ metric: 'session_duration', maxDrop: 0 }] });
    expect(stoppedArms(check(strict, slight))).toEqual(['c']);
  });

  it('stops an arm whose users use the guarded feature less, as a rate ratio of uses per session', () => {
    const c = ctx({ metricGuardrails: [{ metric: 'feature_use', feature: 'checkout', maxDrop: 0 }] });
    const next = check(c, usage(2000, {}, { c: 0.2 }));
    expect(stoppedArms(next)).toEqual(['c']);
    expect(next.arms.c!.stoppedReason).toMatch(/^feature_use of checkout -50\.0 % vs the control/);
    expect(next.look?.guardrails?.find((v) => v.arm === 'b')).toMatchObject({ harmful: false, feature: 'checkout', sample: 2000 });
  });

  it('judges nothing below the minimum sample, and splits α over treatment arms × metric guardrails', () => {
    const c = ctx({
      primary: { metric: 'adoption', direction: 'higher' },
      metricGuardrails: [
        { metric: 'session_duration', maxDrop: 0 },
        { metric: 'feature_use', feature: 'checkout', maxDrop: 0 },
      ],
    });
    const early = check(c, usage(40, { c: 30_000 }, { c: 0 }));
    expect(stoppedArms(early)).toEqual([]);
    expect(early.look?.guardrails).toHaveLength(4);
    expect(early.look?.guardrails?.every((v) => v.alphaEach === 0.05 / 4)).toBe(true);
  });
});

describe('experiment judgement', () => {
  it('concludes with a clear winner: pauses with the arms still served, and does not conclude again after a resume', () => {
    const c = ctx();
    const concluded = applyExperimentEvaluation(baking(c), c, evaluation({ b: gate('continue'), c: gate('continue') }, metrics(400, 66_000)), T0 + 200);
    expect(concluded.rollout.status).toBe('paused');
    expect(concluded.conclusion).toMatchObject({ winner: 'b' });
    expect(concluded.rollout.exposure).toEqual({ default: 10_000 });
    expect(concluded.rollout.history.at(-1)).toMatchObject({ event: 'concluded', reason: expect.stringMatching(/arm b beats a/) });

    const resumed = applyExperimentCommand(concluded, c, 'resume', command, T0 + 300);
    const again = applyExperimentEvaluation(
      { ...resumed, rollout: startSoak({ ...resumed.rollout, settledSeq: resumed.rollout.commandSeq }, T0 + 300) },
      c,
      evaluation({ b: gate('continue'), c: gate('continue') }, metrics(500, 66_000)),
      T0 + 400,
    );
    expect(again.rollout.status).toBe('running');
  });

  it('judges feature_use as uses of the feature per session: more uses win, as a rate ratio', () => {
    const c = ctx({ primary: { metric: 'feature_use', direction: 'higher', feature: 'search' } });
    const uses = (perSession: Record<string, number>, sessions: number) => {
      const m = metrics(0);
      return Object.fromEntries(Object.entries(m).map(([arm, v]) => [arm, { ...v, sessions, featureUses: Math.round(perSession[arm]! * sessions) }]));
    };
    const concluded = applyExperimentEvaluation(baking(c), c, evaluation({ b: gate('continue'), c: gate('continue') }, uses({ a: 0.4, b: 0.6, c: 0.4 }, 2000)), T0 + 200);
    expect(concluded.look?.primary).toMatchObject({ kind: 'rate', arms: { a: { n: 2000, events: 800 }, b: { n: 2000, events: 1200 } } });
    expect(concluded.look?.judgement.arms.find((a) => a.arm === 'b')).toMatchObject({ verdict: 'better', interval: { estimate: expect.closeTo(0.5, 9) } });
    expect(concluded.conclusion).toMatchObject({ winner: 'b' });

    // Sessions alone (no use of the feature recorded yet) decide nothing.
    const unused = applyExperimentEvaluation(baking(c), c, evaluation({ b: gate('continue'), c: gate('continue') }, uses({ a: 0, b: 0, c: 0 }, 2000)), T0 + 200);
    expect(unused.look?.judgement.winner).toBeNull();
    expect(unused.rollout.status).toBe('running');
  });

  it('stays inconclusive below the minimum sample, and ends at the time limit without a winner', () => {
    const c = ctx();
    const early = applyExperimentEvaluation(baking(c), c, evaluation({ b: gate('continue'), c: gate('continue') }, metrics(10, 66_000)), T0 + 200);
    expect(early.rollout.status).toBe('running');
    expect(early.look?.judgement.winner).toBeNull();
    const late = applyExperimentEvaluation(early, c, evaluation({ b: gate('continue'), c: gate('continue') }, metrics(20)), T0 + 10_000);
    expect(late.rollout.status).toBe('aborted');
    expect(late.rollout.reason).toMatch(/time limit/);
  });

  it('pauses and pages on a sample-ratio mismatch', () => {
    const c = ctx();
    const skewed = { ...metrics(10), a: { ...metrics(10).a!, devices: 300 } };
    const next = applyExperimentEvaluation(baking(c), c, evaluation({ b: gate('continue'), c: gate('continue') }, skewed), T0 + 200);
    expect(next.rollout.status).toBe('paused');
    expect(next.rollout.reason).toMatch(/sample ratio mismatch/);
    expect(next.look?.sampleRatio?.mismatch).toBe(true);
  });

  it('keeps the previous look when the rollups could not be read', () => {
    const c = ctx();
    const first = applyExperimentEvaluation(baking(c), c, evaluation({ b: gate('continue'), c: gate('continue') }, metrics(10)), T0 + 200);
    const second = applyExperimentEvaluation(first, c, evaluation({ b: gate('continue'), c: gate('continue') }, null), T0 + 300);
    expect(second.look).toBe(first.look);
  });
});

describe('experiment commands', () => {
  it('refuses what an experiment cannot do, saying what to do instead', () => {
    const c = ctx();
    const state = baking(c);
    expect(experimentRefusal(state, c, 'stopArm', { ...command, arm: 'a' })).toMatch(/control.*abort/);
    expect(experimentRefusal(state, c, 'stopArm', { ...command, arm: 'z' })).toMatch(/no arm z/);
    expect(experimentRefusal(state, c, 'stopArm', command)).toMatch(/name the arm/);
    expect(experimentRefusal(state, c, 'promoteArm', command)).toMatch(/no winner/);
    expect(experimentRefusal(state, c, 'promoteArm', { ...command, arm: 'a' })).toMatch(/baseline/);
    expect(experimentRefusal(state, c, 'promoteFull', command)).toMatch(/promote-arm/);
    expect(experimentRefusal(state, c, 'promote', command)).toMatch(/full exposure/);
    expect(experimentRefusal(state, c, 'pause', { actor: '', reason: 'x' })).toMatch(/actor/);
    expect(experimentRefusal(state, c, 'stopArm', { ...command, arm: 'c' })).toBeNull();
  });

  it('stops an arm by command, and promotes an arm: the experiment completes with it', () => {
    const c = ctx();
    const stopped = applyExperimentCommand(baking(c), c, 'stopArm', { ...command, arm: 'c' }, T0 + 10);
    expect(stoppedArms(stopped)).toEqual(['c']);
    expect(experimentRefusal(stopped, c, 'promoteArm', { ...command, arm: 'c' })).toMatch(/stopped/);
    const promoted = applyExperimentCommand(stopped, c, 'promoteArm', { ...command, arm: 'b' }, T0 + 20);
    expect(promoted.promotedArm).toBe('b');
    expect(promoted.rollout.status).toBe('completed');
    expect(promoted.rollout.history.map((t) => t.event).slice(-3)).toEqual(['arm_stopped', 'arm_promoted', 'completed']);
    expect(experimentRefusal(promoted, c, 'pause', command)).toMatch(/completed/);
  });

  it('marks what a Temporal Signal did', () => {
    const c = ctx();
    const stopped = applyExperimentCommand(baking(c), c, 'stopArm', { ...command, arm: 'b' }, T0 + 10, 'signal');
    expect(stopped.rollout.history.at(-1)).toMatchObject({ event: 'arm_stopped', claimedBy: 'temporal-signal' });
  });
});
