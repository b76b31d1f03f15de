import { BPS_SCALE } from './bucketing';
import { armCohort, armShares, guardrailGates, metricGuardrailLabel, EXPERIMENT_DEFAULTS, type ExperimentDefinition, type MetricGuardrail } from './experiment';
import { judgeExperiment, type ExperimentJudgement, type MetricDirection, type PrimaryMetricSummaries } from './experiments/judge-experiment';
import { metricGuardrailVerdicts, type MetricGuardrailVerdict } from './experiments/metric-guardrails';
import { sampleRatioCheck } from './experiments/sample-ratio-check';
import { COMPARATIVE_METRICS } from './gates/gate-spec';
import type { GateEvaluation, GateEvaluationInput, GateFinding, GateState, GateVerdict } from './gates/gate-types';
import { initialGateState } from './gates/initial-gate-state';
import { isTerminal } from './release';
import {
  COMMANDS,
  accrueSoak,
  applyCommand,
  applyGateEvaluation,
  commandShapeProblem,
  complete,
  gateRequest,
  initialRolloutState,
  pause,
  record,
  refusalOf,
  start,
  terminate,
  type Command,
  type CommandOrigin,
  type RolloutContext,
  type RolloutState,
} from './rollout-machine';
import type { ReleaseView, Transition } from './rollout-view';

/*
 * An experiment as a pure state machine on top of the rollout machine: the rollout part ramps the
 * exposure stage by stage (with maintenance windows, pause/resume, abort), while this part keeps a
 * guardrail gate per treatment arm against the control arm (a harmful arm is stopped alone), checks
 * the sample ratio, and judges the primary metric with always-valid confidence sequences.
 */

export const ARM_COMMANDS = ['stopArm', 'promoteArm'] as const;
export const EXPERIMENT_COMMANDS = [...COMMANDS, ...ARM_COMMANDS] as const;
export type ExperimentCommandName = (typeof EXPERIMENT_COMMANDS)[number];
export type ArmCommandName = (typeof ARM_COMMANDS)[number];

/** `stopArm` names its arm; `promoteArm` may leave it out to ship the declared winner. */
export interface ArmCommand extends Command {
  arm?: string;
}

export interface ExperimentContext extends RolloutContext {
  experiment: ExperimentDefinition;
}

/** A treatment arm's guardrail run. */
export interface ArmRun {
  stopped: boolean;
  stoppedReason: string | null;
  /** The rollout gate's evidence against the control arm, carried between checks. */
  gate: GateState;
  verdict: GateVerdict | null;
  findings: string[];
}

/** Cumulative counts of one arm. Device-windows come from the gate windows, the rest from the rollups. */
export interface ArmMetrics {
  /** Distinct devices of the arm seen active (the sample-ratio check's units). */
  devices: number;
  timedSessions: number;
  sessionMsSum: number;
  sessionMsSquares: number;
  installsOk: number;
  installsFailed: number;
  /** Device-buckets of the arm, and those on the arm's bundle (adoption). */
  activeDeviceBuckets: number;
  onArmDeviceBuckets: number;
  /** Sessions the arm started, and its uses of the primary metric's feature (0 without one). */
  sessions: number;
  featureUses: number;
  /** Uses of each feature the metric guardrails name; absent in checks recorded before they existed. */
  guardedFeatureUses?: Record<string, number>;
}

/** Per arm, device-windows on the arm's bundle from established devices, and those with a crash. */
export interface ArmWindowTotals {
  deviceWindows: number;
  crashed: number;
}

export interface SampleRatioLook {
  observed: number[];
  expectedShares: number[];
  pValue: number;
  mismatch: boolean;
}

export interface ExperimentLook {
  at: number;
  judgement: ExperimentJudgement;
  /** The primary metric's summaries the judgement used, per arm. */
  primary: PrimaryMetricSummaries;
  /** Null until every arm has enough devices to judge the split. */
  sampleRatio: SampleRatioLook | null;
  /** Every running treatment arm on every metric guardrail; absent in looks taken before they existed. */
  guardrails?: MetricGuardrailVerdict[];
}

export interface Conclusion {
  winner: string;
  at: number;
  reason: string;
}

export interface ExperimentState {
  rollout: RolloutState;
  startedAt: number;
  arms: Record<string, ArmRun>;
  windows: Record<string, ArmWindowTotals>;
  promotedArm: string | null;
  conclusion: Conclusion | null;
  look: ExperimentLook | null;
}

/** What the activity read and judged for one check: per treatment arm its guardrail evaluation. */
export interface ExperimentEvaluation {
  arms: Record<string, GateEvaluation>;
  /** This check's windows, per arm (control included). */
  windows: Record<string, ArmWindowTotals>;
  /** Null when the rollups could not be read. */
  metrics: Record<string, ArmMetrics> | null;
  windowEnd: number;
  stageIndex: number;
}

const SYSTEM_ACTOR = 'rampart:experiment';
/** How the gates see an arm and the control arm: each half of the pair compared (see armGateRequest). */
const PAIRWISE_BPS = BPS_SCALE / 2;
/** A sample-ratio check needs this many devices in every arm before it may page anyone. */
const SRM_MIN_DEVICES_PER_ARM = 20;

function treatmentArms(ctx: ExperimentContext): string[] {
  return ctx.experiment.arms.filter((a) => a.key !== ctx.experiment.control).map((a) => a.key);
}

export function initialExperimentState(ctx: ExperimentContext, startedBy: string, now: number): ExperimentState {
  const arms = Object.fromEntries(
    treatmentArms(ctx).map((key): [string, ArmRun] => [key, { stopped: false, stoppedReason: null, gate: initialGateState(), verdict: null, findings: [] }]),
  );
  const windows = Object.fromEntries(ctx.experiment.arms.map((a): [string, ArmWindowTotals] => [a.key, { deviceWindows: 0, crashed: 0 }]));
  const rollout = start(initialRolloutState(now), ctx, startedBy, now);
  return { rollout, startedAt: now, arms, windows, promotedArm: null, conclusion: null, look: null };
}

export function stoppedArms(state: ExperimentState): string[] {
  return Object.entries(state.arms)
    .filter(([, run]) => run.stopped)
    .map(([key]) => key);
}

export function activeArms(state: ExperimentState): string[] {
  return Object.entries(state.arms)
    .filter(([, run]) => !run.stopped)
    .map(([key]) => key);
}

const isLastStage = (state: ExperimentState, ctx: ExperimentContext) => state.rollout.stageIndex >= ctx.plan.stages.length - 1;

/** What the guardrail gate of one treatment arm needs for this check; the activity adds the window. */
export function armGateRequest(state: ExperimentState, ctx: ExperimentContext, arm: string): Omit<GateEvaluationInput, 'window'> {
  const base = gateRequest(state.rollout, ctx);
  const gates = guardrailGates(ctx.experiment.guardrails);
  const ratioMetrics = new Set(gates.flatMap((g) => (g.kind === 'ratio' ? [g.metric] : []))).size;
  const segments = Object.keys(base.stage.exposureBps).length;
  const rDetect = EXPERIMENT_DEFAULTS.guardrailRDetect;
  return {
    ...base,
    state: state.arms[arm]!.gate,
    gates,
    stage: {
      ...base.stage,
      // An arm is compared with the control arm as two halves of a pair, whatever the experiment's
      // exposure: the gates then judge every exposed segment (a rollout at full exposure has no control).
      exposureBps: Object.fromEntries(Object.keys(base.stage.exposureBps).map((segment) => [segment, PAIRWISE_BPS])),
      rDetect,
      // The final stage runs until a winner, the time limit or a command: never a soak-limit pause.
      ...(isLastStage(state, ctx) ? { maxSoakMs: Number.MAX_SAFE_INTEGER } : {}),
    },
    // Bonferroni over every arm's comparisons, so the experiment's false-stop budget is the release's.
    comparisons: Math.max(1, Math.min(ratioMetrics, COMPARATIVE_METRICS.length) * Math.max(1, segments) * treatmentArms(ctx).length),
    rDetectValues: [rDetect],
  };
}

/** The slices the activity reads for an arm's guardrail: the arm as canary, the control arm as control. */
export function armSlices(ctx: ExperimentContext, arm: string): { canary: string; control: string } {
  return { canary: armCohort(arm), control: armCohort(ctx.experiment.control) };
}

function stopArm(state: ExperimentState, arm: string, now: number, actor: string, reason: string): ExperimentState {
  const run = state.arms[arm]!;
  const arms = { ...state.arms, [arm]: { ...run, stopped: true, stoppedReason: reason } };
  const rollout = record({ ...state.rollout, revision: state.rollout.revision + 1 }, now, 'arm_stopped', state.rollout.status, actor, `arm ${arm} stopped: ${reason}`);
  const next = { ...state, arms, rollout };
  if (activeArms(next).length > 0) return next;
  return { ...next, rollout: terminate(next.rollout, now, 'rolled_back', actor, 'every treatment arm was stopped; devices go back to the baseline') };
}

/** The arm a promotion ships: the named one, or the declared winner. */
function armToPromote(state: ExperimentState, command: ArmCommand): string | null {
  return command.arm ?? state.conclusion?.winner ?? state.look?.judgement.winner ?? null;
}

/** Why an experiment command cannot be applied now, or null. Pure and synchronous (update validators). */
export function experimentRefusal(state: ExperimentState, ctx: ExperimentContext, name: ExperimentCommandName, command: unknown): string | null {
  const shape = commandShapeProblem(command);
  if (shape !== null) return shape;
  if (isTerminal(state.rollout.status)) return `the experiment is ${state.rollout.status}; nothing can change it any more`;
  const arm = (command as ArmCommand).arm;
  if (arm !== undefined && (typeof arm !== 'string' || !ctx.experiment.arms.some((a) => a.key === arm))) {
    return `no arm ${String(arm)}; the arms are ${ctx.experiment.arms.map((a) => a.key).join(', ')}`;
  }
  if (name === 'stopArm') return stopArmRefusal(state, ctx, arm);
  if (name === 'promoteArm') return promoteArmRefusal(state, ctx, command as ArmCommand);
  if (name === 'promoteFull') return 'an experiment does not skip to a full release; promote-arm ships one arm to everyone';
  if (name === 'promote' && isLastStage(state, ctx)) return 'the experiment is at its full exposure; promote-arm ships one arm to everyone';
  return refusalOf(state.rollout, ctx, name, command);
}

function stopArmRefusal(state: ExperimentState, ctx: ExperimentContext, arm: string | undefined): string | null {
  if (arm === undefined) return 'name the arm to stop: {"arm": "<key>", "actor": "...", "reason": "..."}';
  if (arm === ctx.experiment.control) return `arm ${arm} is the control; to send everyone back to the baseline, abort the experiment`;
  return state.arms[arm]?.stopped ? `arm ${arm} is already stopped` : null;
}

function promoteArmRefusal(state: ExperimentState, ctx: ExperimentContext, command: ArmCommand): string | null {
  const chosen = armToPromote(state, command);
  if (chosen === null) return 'no winner has been declared yet; name the arm to promote: {"arm": "<key>", ...}';
  const spec = ctx.experiment.arms.find((a) => a.key === chosen)!;
  if (spec.version === null) return `arm ${chosen} runs the baseline; to keep it for everyone, abort the experiment`;
  const run = state.arms[chosen];
  return run?.stopped ? `arm ${chosen} was stopped (${run.stoppedReason ?? 'by command'}); it cannot be promoted` : null;
}

/** Applies a command that `experimentRefusal` accepted. */
export function applyExperimentCommand(
  state: ExperimentState,
  ctx: ExperimentContext,
  name: ExperimentCommandName,
  command: ArmCommand,
  now: number,
  origin: CommandOrigin = 'update',
): ExperimentState {
  const counted = { ...state, rollout: { ...state.rollout, commandSeq: state.rollout.commandSeq + 1 } };
  const { actor, reason } = command;
  if (name !== 'stopArm' && name !== 'promoteArm') return { ...state, rollout: applyCommand(state.rollout, ctx, name, command, now, origin) };
  let next: ExperimentState;
  if (name === 'stopArm') {
    next = stopArm(counted, command.arm!, now, actor, reason);
  } else {
    const arm = armToPromote(state, command)!;
    const promoted = record({ ...counted.rollout, revision: counted.rollout.revision + 1 }, now, 'arm_promoted', counted.rollout.status, actor, `arm ${arm} promoted: ${reason}`);
    next = { ...counted, promotedArm: arm, rollout: complete(promoted, now, actor, `arm ${arm} ships to everyone`) };
  }
  if (origin === 'update') return next;
  const history = next.rollout.history.map((t): Transition => (t.seq >= state.rollout.nextSeq ? { ...t, claimedBy: 'temporal-signal' } : t));
  return { ...next, rollout: { ...next.rollout, history } };
}

const addWindows = (a: ArmWindowTotals, b: ArmWindowTotals | undefined): ArmWindowTotals => ({
  deviceWindows: a.deviceWindows + (b?.deviceWindows ?? 0),
  crashed: a.crashed + (b?.crashed ?? 0),
});

/** The primary metric's summaries per arm, from the cumulative counts. */
function primarySummaries(ctx: ExperimentContext, windows: Record<string, ArmWindowTotals>, metrics: Record<string, ArmMetrics>): PrimaryMetricSummaries {
  const { metric, direction } = ctx.experiment.primary;
  return summariesOf(ctx, metric, direction, windows, metrics, (m) => m?.featureUses ?? 0);
}

/** A metric guardrail's summaries per arm: its metric, higher is better. */
function guardrailSummaries(ctx: ExperimentContext, guardrail: MetricGuardrail, metrics: Record<string, ArmMetrics>): PrimaryMetricSummaries {
  return summariesOf(ctx, guardrail.metric, 'higher', {}, metrics, (m) => m?.guardedFeatureUses?.[guardrail.feature ?? ''] ?? 0);
}

function summariesOf(
  ctx: ExperimentContext,
  metric: ExperimentDefinition['primary']['metric'],
  direction: MetricDirection,
  windows: Record<string, ArmWindowTotals>,
  metrics: Record<string, ArmMetrics>,
  featureUses: (m: ArmMetrics | undefined) => number,
): PrimaryMetricSummaries {
  const keys = ctx.experiment.arms.map((a) => a.key);
  const of = <T>(f: (m: ArmMetrics | undefined, w: ArmWindowTotals | undefined) => T) => Object.fromEntries(keys.map((k) => [k, f(metrics[k], windows[k])]));
  switch (metric) {
    case 'session_duration':
      return { kind: 'mean', direction, arms: of((m) => ({ n: m?.timedSessions ?? 0, sum: m?.sessionMsSum ?? 0, sumOfSquares: m?.sessionMsSquares ?? 0 })) };
    case 'crash_free_sessions':
      return { kind: 'proportion', direction, arms: of((_, w) => ({ n: w?.deviceWindows ?? 0, x: (w?.deviceWindows ?? 0) - (w?.crashed ?? 0) })) };
    case 'update_success':
      return { kind: 'proportion', direction, arms: of((m) => ({ n: (m?.installsOk ?? 0) + (m?.installsFailed ?? 0), x: m?.installsOk ?? 0 })) };
    case 'adoption':
      return { kind: 'proportion', direction, arms: of((m) => ({ n: m?.activeDeviceBuckets ?? 0, x: m?.onArmDeviceBuckets ?? 0 })) };
    case 'feature_use':
      return { kind: 'rate', direction, arms: of((m) => ({ n: m?.sessions ?? 0, events: featureUses(m) })) };
  }
}

function sampleRatioLook(ctx: ExperimentContext, metrics: Record<string, ArmMetrics>): SampleRatioLook | null {
  const observed = ctx.experiment.arms.map((a) => metrics[a.key]?.devices ?? 0);
  if (observed.some((n) => n < SRM_MIN_DEVICES_PER_ARM)) return null;
  const expectedShares = armShares(ctx.experiment.arms);
  return { observed, expectedShares, ...sampleRatioCheck(observed, expectedShares) };
}

/** Looks at the primary metric and the split; keeps the previous look when the rollups could not be read. */
function lookAt(state: ExperimentState, ctx: ExperimentContext, windows: Record<string, ArmWindowTotals>, metrics: Record<string, ArmMetrics> | null, now: number): ExperimentLook | null {
  if (metrics === null) return state.look;
  const primary = primarySummaries(ctx, windows, metrics);
  const { alpha, minSamplePerArm, control } = ctx.experiment;
  const judgement = judgeExperiment({ primary, control, alpha, minSamplePerArm, stoppedArms: stoppedArms(state) });
  const guardrails = metricGuardrailVerdicts({
    guardrails: ctx.experiment.metricGuardrails ?? [],
    arms: activeArms(state),
    control,
    alpha,
    treatmentArmCount: treatmentArms(ctx).length,
    minSamplePerArm,
    summariesOf: (guardrail) => guardrailSummaries(ctx, guardrail, metrics),
  });
  return { at: now, judgement, primary, sampleRatio: sampleRatioLook(ctx, metrics), guardrails };
}

const percent = (x: number | null) => (x === null ? '?' : `${(x * 100).toFixed(1)} %`);

function winnerReason(look: ExperimentLook, winner: string, control: string): string {
  const arm = look.judgement.arms.find((a) => a.arm === winner);
  if (!arm) return `every other arm did worse than the control ${control}; abort to keep the baseline, or promote an arm by name`;
  const i = arm.interval;
  return `arm ${winner} beats ${control}: ${percent(i.relativeEstimate)} (always-valid interval ${percent(i.relativeLower)} … ${percent(i.relativeUpper)}); promote-arm ships it`;
}

/** The guardrails' combined say on the ramp: the rollout machine then advances, keeps baking or pauses. */
function rampEvaluation(state: ExperimentState, ctx: ExperimentContext, evaluations: Record<string, GateEvaluation>): GateEvaluation {
  const active = activeArms(state).filter((arm) => evaluations[arm] !== undefined);
  const verdicts = active.map((arm) => evaluations[arm]!.verdict);
  let verdict: GateVerdict = verdicts.includes('pause') ? 'pause' : verdicts.length > 0 && verdicts.every((v) => v === 'advance') ? 'advance' : 'continue';
  if (verdict === 'advance' && isLastStage(state, ctx)) verdict = 'continue';
  const findings: GateFinding[] = active.flatMap((arm) => evaluations[arm]!.evidence.findings.map((f) => ({ ...f, message: `arm ${arm}: ${f.message}` })));
  const first = active.map((arm) => evaluations[arm]!.evidence)[0];
  return {
    state: state.rollout.gate,
    verdict,
    evidence: {
      windowStart: first?.windowStart ?? null,
      windowEnd: first?.windowEnd ?? null,
      ratio: active.flatMap((arm) => evaluations[arm]!.evidence.ratio.map((r) => ({ ...r, segment: `${r.segment} (arm ${arm})` }))),
      tripwire: active.flatMap((arm) => evaluations[arm]!.evidence.tripwire.map((t) => ({ ...t, segment: `${t.segment} (arm ${arm})` }))),
      findings,
    },
  };
}

/**
 * Folds one check into the experiment and acts: stops the arms whose guardrail says roll back,
 * pauses on a sample-ratio mismatch or a guardrail's pause, concludes (pauses, arms still served)
 * once a winner is clear, ends at the time limit without one, and otherwise lets the ramp go on.
 * A command that changed the experiment while the check ran leaves only the evidence.
 */
export function applyExperimentEvaluation(state: ExperimentState, ctx: ExperimentContext, evaluated: ExperimentEvaluation, now: number): ExperimentState {
  const next = foldEvaluation(state, ctx, evaluated, now);
  const r = next.rollout;
  if (r.status !== 'running' || r.phase !== 'baking' || r.stageIndex !== evaluated.stageIndex) return next;
  const guarded = stopHarmfulArms(next, evaluated, now);
  if (isTerminal(guarded.rollout.status)) return guarded;
  return judgeAndRamp(guarded, ctx, evaluated, now);
}

/** Keeps the evidence: windows, each running arm's gate state, the new look, and the cursor past the windows read. */
function foldEvaluation(state: ExperimentState, ctx: ExperimentContext, evaluated: ExperimentEvaluation, now: number): ExperimentState {
  const windows = Object.fromEntries(Object.entries(state.windows).map(([arm, totals]) => [arm, addWindows(totals, evaluated.windows[arm])]));
  const arms = { ...state.arms };
  for (const [arm, evaluation] of Object.entries(evaluated.arms)) {
    const run = arms[arm];
    if (run === undefined || run.stopped) continue;
    const reasons = evaluation.evidence.findings.filter((f) => f.verdict === evaluation.verdict && !f.dryRun).map((f) => f.message);
    arms[arm] = { ...run, gate: evaluation.state, verdict: evaluation.verdict, findings: reasons };
  }
  const rollout = { ...state.rollout, gateCursor: Math.max(state.rollout.gateCursor, evaluated.windowEnd) };
  return { ...state, rollout, arms, windows, look: lookAt(state, ctx, windows, evaluated.metrics, now) };
}

function dropReason(verdict: MetricGuardrailVerdict): string {
  const i = verdict.interval;
  const name = metricGuardrailLabel({ metric: verdict.metric, ...(verdict.feature === null ? {} : { feature: verdict.feature }) });
  return `${name} ${percent(i.relativeEstimate)} vs the control (always-valid interval ${percent(i.relativeLower)} … ${percent(i.relativeUpper)}), more than the ${percent(verdict.maxDrop)} drop it may cause`;
}

/** Why each arm is harmful this check: its gate guardrails said roll back, or a metric guardrail proved a drop. */
function harmfulArms(state: ExperimentState, evaluated: ExperimentEvaluation): Map<string, string> {
  const harmful = new Map<string, string>();
  for (const arm of activeArms(state)) {
    const reasons = evaluated.arms[arm]?.verdict === 'rollback' ? [state.arms[arm]!.findings.join('; ') || 'guardrail failed'] : [];
    // A look kept from an earlier check (rollups unreadable now) was acted on then.
    if (evaluated.metrics !== null) reasons.push(...(state.look?.guardrails ?? []).filter((v) => v.arm === arm && v.harmful).map(dropReason));
    if (reasons.length > 0) harmful.set(arm, reasons.join('; '));
  }
  return harmful;
}

/** A harmful treatment arm is stopped alone; the experiment ends when none is left. */
function stopHarmfulArms(state: ExperimentState, evaluated: ExperimentEvaluation, now: number): ExperimentState {
  let next = state;
  for (const [arm, reason] of harmfulArms(state, evaluated)) {
    next = stopArm(next, arm, now, `${SYSTEM_ACTOR}:guardrail`, reason);
    if (isTerminal(next.rollout.status)) break;
  }
  return next;
}

function judgeAndRamp(next: ExperimentState, ctx: ExperimentContext, evaluated: ExperimentEvaluation, now: number): ExperimentState {
  const look = next.look;
  if (look?.sampleRatio?.mismatch) {
    const { observed, expectedShares, pValue } = look.sampleRatio;
    const split = ctx.experiment.arms.map((a, i) => `${a.key} ${observed[i]} (expected ${percent(expectedShares[i]!)})`).join(', ');
    return { ...next, rollout: pause(next.rollout, now, `${SYSTEM_ACTOR}:sample-ratio`, `sample ratio mismatch: ${split}, p ${pValue.toExponential(2)} → pause and page a human`) };
  }
  const winner = look?.judgement.winner ?? null;
  if (look !== null && winner !== null && next.conclusion?.winner !== winner) {
    const reason = winnerReason(look, winner, ctx.experiment.control);
    const rollout = record({ ...accrueSoak(next.rollout, now), lastTickAt: null, revision: next.rollout.revision + 1 }, now, 'concluded', 'paused', SYSTEM_ACTOR, reason);
    return { ...next, conclusion: { winner, at: now, reason }, rollout };
  }
  if (now - next.startedAt >= ctx.experiment.timeLimitMs && next.conclusion === null) {
    return { ...next, rollout: terminate(next.rollout, now, 'aborted', SYSTEM_ACTOR, 'time limit reached without a winner; devices go back to the baseline') };
  }
  const ramp = rampEvaluation(next, ctx, evaluated.arms);
  return { ...next, rollout: applyGateEvaluation(next.rollout, ctx, { evaluation: ramp, windowEnd: evaluated.windowEnd, stageIndex: evaluated.stageIndex }, now) };
}

export interface ExperimentArmView {
  key: string;
  version: string | null;
  weight: number;
  installMode: string;
  control: boolean;
  stopped: boolean;
  stoppedReason: string | null;
  guardrail: GateVerdict | null;
  guardrailFindings: string[];
}

export interface ExperimentView extends ReleaseView {
  experiment: {
    arms: ExperimentArmView[];
    control: string;
    primary: ExperimentDefinition['primary'];
    guardrails: ExperimentDefinition['guardrails'];
    metricGuardrails: MetricGuardrail[];
    startedAt: number;
    timeLimitAt: number;
    promotedArm: string | null;
    conclusion: Conclusion | null;
    look: ExperimentLook | null;
  };
}

export function experimentView(state: ExperimentState, ctx: ExperimentContext, release: ReleaseView): ExperimentView {
  const { experiment } = ctx;
  return {
    ...release,
    experiment: {
      arms: experiment.arms.map((a) => {
        const run = state.arms[a.key];
        return {
          key: a.key,
          version: a.version,
          weight: a.weight,
          installMode: a.installMode,
          control: a.key === experiment.control,
          stopped: run?.stopped ?? false,
          stoppedReason: run?.stoppedReason ?? null,
          guardrail: run?.verdict ?? null,
          guardrailFindings: run?.findings ?? [],
        };
      }),
      control: experiment.control,
      primary: experiment.primary,
      guardrails: experiment.guardrails,
      metricGuardrails: experiment.metricGuardrails ?? [],
      startedAt: state.startedAt,
      timeLimitAt: state.startedAt + experiment.timeLimitMs,
      promotedArm: state.promotedArm,
      conclusion: state.conclusion,
      look: state.look,
    },
  };
}
