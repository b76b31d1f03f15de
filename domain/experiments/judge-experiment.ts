import { type MeanSummary, meanDifferenceSequence } from './mean-difference-sequence';
import { type ProportionSummary, proportionDifferenceSequence } from './proportion-difference-sequence';
import { type RateSummary, rateRatioSequence } from './rate-ratio-sequence';
import type { SequentialInterval } from './sequential-interval';

export type MetricDirection = 'higher' | 'lower';
export type ArmVerdict = 'better' | 'worse' | 'inconclusive';

/** A metric's per-arm summaries, keyed by arm name, and which way is better. */
export type PrimaryMetricSummaries =
  | { kind: 'mean'; direction: MetricDirection; arms: Readonly<Record<string, MeanSummary>> }
  | { kind: 'proportion'; direction: MetricDirection; arms: Readonly<Record<string, ProportionSummary>> }
  | { kind: 'rate'; direction: MetricDirection; arms: Readonly<Record<string, RateSummary>> };

export interface ExperimentJudgementInput {
  primary: PrimaryMetricSummaries;
  /** The arm on the baseline bundle; every other arm is compared with it. */
  control: string;
  /** The experiment's chance of ever declaring a wrong winner, split over the comparisons. */
  alpha: number;
  /** No arm is judged better or worse before it and the control both have this many units. */
  minSamplePerArm: number;
  /** Total units of two arms where the sequences are tightest; see DEFAULT_SEQUENCE_TUNING. */
  tuning?: number;
  /** Arms out of the running (a guardrail stopped them): still judged, never the winner. */
  stoppedArms?: readonly string[];
}

export interface ArmJudgement {
  arm: string;
  verdict: ArmVerdict;
  /** The arm − control confidence sequence at `alphaEach`. */
  interval: SequentialInterval;
  /** Units of the arm. */
  sample: number;
}

export interface ExperimentJudgement {
  /** Every arm except the control, in the order of `primary.arms`. */
  arms: ArmJudgement[];
  /** The arm to ship: a treatment arm, the control when every other arm lost, or null (not yet). */
  winner: string | null;
  decided: boolean;
  /** α per comparison: α / C(k, 2) for k arms (control included). */
  alphaEach: number;
}

/**
 * One look at an experiment's primary metric; pure, so it may run at every check.
 *
 * Each treatment arm is judged against the control by its confidence sequence: `better` when the
 * whole interval lies on the better side of 0, `worse` when it lies on the other, `inconclusive`
 * otherwise or while either arm is under the minimum sample. The winner is
 * - the only arm still running that is better than the control;
 * - when several are, the one that is also better than each of the others by their pairwise
 *   sequence (none until one is);
 * - the control, when every other arm is worse or stopped.
 * The winner is thus proven better than the control, not than an arm still inconclusive against it
 * (which, once better too, would have had to be beaten pairwise).
 * α is split (Bonferroni) over every pair of arms — the k − 1 comparisons with the control and the
 * pairwise ones between arms that may be needed to pick among several better arms — so the chance
 * that any sequence the rule consults ever misses its true difference, and hence of ever declaring
 * a wrong winner, is at most α however often the experiment is looked at.
 */
export function judgeExperiment(input: ExperimentJudgementInput): ExperimentJudgement {
  const { primary, control, minSamplePerArm } = input;
  const names = Object.keys(primary.arms);
  const alphaEach = input.alpha / Math.max(1, (names.length * (names.length - 1)) / 2);
  const compare = (treatment: string, baseline: string): SequentialInterval => armComparison(primary, treatment, baseline, alphaEach, input.tuning);
  const sampleOf = (arm: string): number => primary.arms[arm]?.n ?? 0;
  const controlSample = sampleOf(control);

  const arms = names
    .filter((arm) => arm !== control)
    .map((arm): ArmJudgement => {
      const interval = compare(arm, control);
      const sample = sampleOf(arm);
      const judged = sample >= minSamplePerArm && controlSample >= minSamplePerArm;
      return { arm, verdict: judged ? verdictOf(interval, primary.direction) : 'inconclusive', interval, sample };
    });

  const stopped = new Set(input.stoppedArms ?? []);
  const contenders = arms.filter((a) => a.verdict === 'better' && !stopped.has(a.arm)).map((a) => a.arm);
  const winner =
    contenders.length > 0
      ? (contenders.find((arm) => contenders.every((other) => other === arm || verdictOf(compare(arm, other), primary.direction) === 'better')) ?? null)
      : arms.length > 0 && arms.every((a) => a.verdict === 'worse' || stopped.has(a.arm))
        ? control
        : null;
  return { arms, winner, decided: winner !== null, alphaEach };
}

function verdictOf(interval: SequentialInterval, direction: MetricDirection): ArmVerdict {
  const [better, worse] = direction === 'higher' ? [interval.lower > 0, interval.upper < 0] : [interval.upper < 0, interval.lower > 0];
  return better ? 'better' : worse ? 'worse' : 'inconclusive';
}

/** The always-valid (1 − α) sequence of treatment − baseline on the summaries' metric (a rate ratio − 1 for rates). */
export function armComparison(primary: PrimaryMetricSummaries, treatment: string, baseline: string, alpha: number, tuning: number | undefined): SequentialInterval {
  if (primary.kind === 'mean') {
    const empty: MeanSummary = { n: 0, sum: 0, sumOfSquares: 0 };
    return meanDifferenceSequence(primary.arms[treatment] ?? empty, primary.arms[baseline] ?? empty, alpha, tuning);
  }
  if (primary.kind === 'rate') {
    const empty: RateSummary = { n: 0, events: 0 };
    return rateRatioSequence(primary.arms[treatment] ?? empty, primary.arms[baseline] ?? empty, alpha, tuning);
  }
  const empty: ProportionSummary = { n: 0, x: 0 };
  return proportionDifferenceSequence(primary.arms[treatment] ?? empty, primary.arms[baseline] ?? empty, alpha, tuning);
}
