import { type PrimaryMetricSummaries, judgeExperiment } from '../../domain/experiments/judge-experiment';
import { metricGuardrailVerdicts } from '../../domain/experiments/metric-guardrails';
import { DEFAULT_SEQUENCE_TUNING } from '../../domain/experiments/normal-mixture-boundary';
import { type Rng, createRng } from '../../scripts/support/prng';
import { type ArmTotals, type ExperimentModel, type MetricKind, addHour, baseMean, emptyTotals, unitVariance } from './experiment-model';
import { normalQuantile } from './normal-quantile';
import { asMeanSummary, welchSignificant } from './welch-test';

const HOURS_PER_DAY = 24;

export interface ExperimentSimulationOptions {
  replicates: number;
  seed: number;
  /** The experiment's α (ours: split over the pairs of arms; the t-test: Bonferroni over the arms). */
  alpha: number;
  tuning: number;
  minSamplePerArm: number;
  /** Length of the no-difference experiments, peeked at every hour throughout. */
  horizonDays: number;
  /** Give up on a real difference after this long. */
  maxDays: number;
  /** The true effect of the treatment arm in the sample-size runs (1.05: +5 %). */
  lift: number;
  /** Power the fixed-horizon plan is sized for. */
  power: number;
  model: ExperimentModel;
}

export const DEFAULT_EXPERIMENT_OPTIONS: ExperimentSimulationOptions = {
  replicates: 400,
  seed: 1,
  alpha: 0.05,
  tuning: DEFAULT_SEQUENCE_TUNING,
  minSamplePerArm: 100,
  horizonDays: 14,
  maxDays: 28,
  lift: 1.05,
  power: 0.8,
  model: { unitsPerArmHour: 150, meanSessionMs: 60_000, sessionSigma: 1, baseProportion: 0.2 },
};

export type Method = 'sequence-hourly' | 'sequence-daily' | 't-test-hourly' | 't-test-daily' | 't-test-once';
export const METHODS: readonly Method[] = ['sequence-hourly', 'sequence-daily', 't-test-hourly', 't-test-daily', 't-test-once'];

export interface FalseWinnerCell {
  metric: MetricKind;
  arms: number;
  /** Units per arm at which the fixed-horizon t-test looks once. */
  plannedSamplePerArm: number;
  replicates: number;
  /** Replicates in which the method declared any arm better or worse than the control. */
  decisions: Record<Method, number>;
  /** Replicates in which a session_duration guardrail (no allowed drop, looked at hourly) would have stopped an arm; null for proportions. */
  guardrailStops: number | null;
}

export interface SampleSizeCell {
  metric: MetricKind;
  lift: number;
  plannedSamplePerArm: number;
  replicates: number;
  sequence: StoppingSummary;
  /** The t-test peeked at daily, stopping at the first significant day (invalid; for comparison). */
  tTestDaily: StoppingSummary;
  /** Share of replicates in which the t-test, run once at the planned sample, found the arm better. */
  tTestOncePower: number;
}

export interface StoppingSummary {
  /** Share of replicates that declared the treatment better within maxDays. */
  power: number;
  /** Replicates that declared the control the winner instead (the wrong direction). */
  wrongDirection: number;
  /** Units per arm at the decision, over all replicates (undecided = never): null beyond the horizon. */
  medianSample: number | null;
  p80Sample: number | null;
  p90Sample: number | null;
}

/**
 * Units per arm a fixed-horizon two-sided test at level α needs for the given power against the
 * model's lift: (z_{1−α/2} + z_power)²·(σ_c² + σ_t²)/δ².
 */
export function plannedSamplePerArm(options: ExperimentSimulationOptions, metric: MetricKind, alpha: number, lift: number): number {
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(options.power);
  const delta = (lift - 1) * baseMean(options.model, metric);
  return Math.ceil((z * z * (unitVariance(options.model, metric) + unitVariance(options.model, metric, lift))) / (delta * delta));
}

function judge(options: ExperimentSimulationOptions, metric: MetricKind, totals: readonly ArmTotals[]) {
  const arms = Object.fromEntries(totals.map((t, i) => [armName(i), t]));
  const primary: PrimaryMetricSummaries = { kind: metric, direction: 'higher', arms };
  return judgeExperiment({ primary, control: armName(0), alpha: options.alpha, minSamplePerArm: options.minSamplePerArm, tuning: options.tuning });
}

function armName(index: number): string {
  return String.fromCharCode(65 + index);
}

/** Whether a session_duration guardrail with no allowed drop finds any treatment arm harmful. */
function guardrailStops(options: ExperimentSimulationOptions, totals: readonly ArmTotals[]): boolean {
  const arms = Object.fromEntries(totals.map((t, i) => [armName(i), t]));
  const treatments = totals.slice(1).map((_, i) => armName(i + 1));
  return metricGuardrailVerdicts({
    guardrails: [{ metric: 'session_duration', maxDrop: 0 }],
    arms: treatments,
    control: armName(0),
    alpha: options.alpha,
    treatmentArmCount: treatments.length,
    minSamplePerArm: options.minSamplePerArm,
    summariesOf: () => ({ kind: 'mean', direction: 'higher', arms }),
    tuning: options.tuning,
  }).some((v) => v.harmful);
}

/** Which treatment arms the naive t-test finds different from the control, Bonferroni over the arms. */
function tTestDecides(metric: MetricKind, totals: readonly ArmTotals[], z: number, minSample: number): 'better' | 'worse' | null {
  const control = totals[0]!;
  for (const t of totals.slice(1)) {
    if (t.n < minSample || control.n < minSample) continue;
    const [a, b] = metric === 'mean' ? [t, control] : [asMeanSummary(t), asMeanSummary(control)];
    if (welchSignificant(a, b, z)) return a.sum / a.n > b.sum / b.n ? 'better' : 'worse';
  }
  return null;
}

interface NoDifferenceReplicate {
  /** The methods that ever declared a difference (`t-test-once`: looked once, whatever it said). */
  decided: Set<Method>;
  /** What the t-test said when it looked once. */
  onceDecided: boolean;
  /** A session_duration guardrail would have stopped an arm. */
  guardrailStopped: boolean;
}

/** One replicate of (a): hour by hour until every method has spoken, or the horizon. */
function noDifferenceReplicate(options: ExperimentSimulationOptions, metric: MetricKind, arms: number, seed: number[], z: number, planned: number): NoDifferenceReplicate {
  const rng = createRng(seed);
  const totals = emptyTotals(arms);
  const lifts = Array.from({ length: arms }, () => 1);
  const result: NoDifferenceReplicate = { decided: new Set<Method>(), onceDecided: false, guardrailStopped: false };
  // Only session duration has a guardrail of its kind; the loop does not wait for the others.
  let guardrailDone = metric !== 'mean';
  for (let hour = 0; hour < options.horizonDays * HOURS_PER_DAY && (result.decided.size < METHODS.length || !guardrailDone); hour++) {
    addHour(rng, options.model, metric, hour, lifts, totals);
    if (!guardrailDone && guardrailStops(options, totals)) result.guardrailStopped = guardrailDone = true;
    const endOfDay = (hour + 1) % HOURS_PER_DAY === 0;
    const ours = judge(options, metric, totals).decided;
    const naive = tTestDecides(metric, totals, z, options.minSamplePerArm) !== null;
    if (ours) result.decided.add('sequence-hourly');
    if (ours && endOfDay) result.decided.add('sequence-daily');
    if (naive) result.decided.add('t-test-hourly');
    if (naive && endOfDay) result.decided.add('t-test-daily');
    if (!result.decided.has('t-test-once') && totals.every((t) => t.n >= planned)) {
      // Looked at once: a "no" also ends this method's run.
      result.decided.add('t-test-once');
      result.onceDecided = naive;
    }
  }
  return result;
}

/** (a) No true difference, every method looking at the same data of each replicate. */
export function falseWinnerCell(options: ExperimentSimulationOptions, metric: MetricKind, arms: number, cellKey: number): FalseWinnerCell {
  const tAlpha = options.alpha / (arms - 1);
  const z = normalQuantile(1 - tAlpha / 2);
  const planned = plannedSamplePerArm(options, metric, tAlpha, options.lift);
  const decisions = Object.fromEntries(METHODS.map((m) => [m, 0])) as Record<Method, number>;
  let stops = 0;
  for (let r = 0; r < options.replicates; r++) {
    const replicate = noDifferenceReplicate(options, metric, arms, [options.seed, cellKey, r], z, planned);
    for (const m of replicate.decided) if (m !== 't-test-once') decisions[m]++;
    if (replicate.onceDecided) decisions['t-test-once']++;
    if (replicate.guardrailStopped) stops++;
  }
  return { metric, arms, plannedSamplePerArm: planned, replicates: options.replicates, decisions, guardrailStops: metric === 'mean' ? stops : null };
}

/** Units per arm when a method declared the treatment better, `wrong` when it declared the control, null when neither. */
type Stopping = number | 'wrong' | null;

interface ReplicateStopping {
  sequence: Stopping;
  tTestDaily: Stopping;
  /** The t-test found the treatment better when it looked once, at the planned sample. */
  tTestOnce: boolean;
}

/** One replicate with a true difference: every method looks at the same data until each has spoken. */
function sampleSizeReplicate(options: ExperimentSimulationOptions, metric: MetricKind, planned: number, z: number, rng: Rng): ReplicateStopping {
  const totals = emptyTotals(2);
  const result: ReplicateStopping = { sequence: null, tTestDaily: null, tTestOnce: false };
  let looked = false;
  for (let hour = 0; hour < options.maxDays * HOURS_PER_DAY && (result.sequence === null || result.tTestDaily === null || !looked); hour++) {
    addHour(rng, options.model, metric, hour, [1, options.lift], totals);
    const perArm = (totals[0]!.n + totals[1]!.n) / 2;
    if (result.sequence === null) {
      const { winner } = judge(options, metric, totals);
      if (winner !== null) result.sequence = winner === 'B' ? perArm : 'wrong';
    }
    if (result.tTestDaily === null && (hour + 1) % HOURS_PER_DAY === 0) {
      const verdict = tTestDecides(metric, totals, z, options.minSamplePerArm);
      if (verdict !== null) result.tTestDaily = verdict === 'better' ? perArm : 'wrong';
    }
    if (!looked && totals.every((t) => t.n >= planned)) {
      looked = true;
      result.tTestOnce = tTestDecides(metric, totals, z, 0) === 'better';
    }
  }
  return result;
}

/** (b) The treatment arm truly better by `lift`: how many units per arm until each method says so. */
export function sampleSizeCell(options: ExperimentSimulationOptions, metric: MetricKind, cellKey: number): SampleSizeCell {
  const z = normalQuantile(1 - options.alpha / 2);
  const planned = plannedSamplePerArm(options, metric, options.alpha, options.lift);
  const replicates = Array.from({ length: options.replicates }, (_, r) => sampleSizeReplicate(options, metric, planned, z, createRng([options.seed, cellKey, r])));
  return {
    metric,
    lift: options.lift,
    plannedSamplePerArm: planned,
    replicates: options.replicates,
    sequence: stopping(replicates.map((r) => r.sequence)),
    tTestDaily: stopping(replicates.map((r) => r.tTestDaily)),
    tTestOncePower: replicates.filter((r) => r.tTestOnce).length / options.replicates,
  };
}

/**
 * Undecided runs and wrong-direction decisions count as never deciding for the treatment, so the
 * p80 sample is the sample a sequential test needs for 80 % power. Order statistics (type 1) rather
 * than interpolation: some of the values are infinite.
 */
function stopping(samples: readonly Stopping[]): StoppingSummary {
  const all = samples.map((s) => (typeof s === 'number' ? s : Infinity));
  const finite = (q: number): number | null => {
    const sorted = [...all].sort((a, b) => a - b);
    const value = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    return value !== undefined && Number.isFinite(value) ? value : null;
  };
  return {
    power: all.filter(Number.isFinite).length / Math.max(1, all.length),
    wrongDirection: samples.filter((s) => s === 'wrong').length,
    medianSample: finite(0.5),
    p80Sample: finite(0.8),
    p90Sample: finite(0.9),
  };
}

export interface ExperimentSimulationResult {
  falseWinners: FalseWinnerCell[];
  sampleSizes: SampleSizeCell[];
}

export function runExperimentSimulation(options: ExperimentSimulationOptions, progress: (label: string) => void): ExperimentSimulationResult {
  const falseWinners: FalseWinnerCell[] = [];
  const cells: Array<[MetricKind, number]> = [
    ['mean', 2],
    ['mean', 3],
    ['proportion', 2],
    ['proportion', 3],
  ];
  for (const [i, [metric, arms]] of cells.entries()) {
    falseWinners.push(falseWinnerCell(options, metric, arms, i + 1));
    progress(`no difference, ${metric}, ${arms} arms`);
  }
  const sampleSizes: SampleSizeCell[] = [];
  for (const [i, metric] of (['mean', 'proportion'] as const).entries()) {
    sampleSizes.push(sampleSizeCell(options, metric, 100 + i));
    progress(`+${Math.round((options.lift - 1) * 100)} %, ${metric}`);
  }
  return { falseWinners, sampleSizes };
}
