import type { MetricGuardrail } from '../experiment';
import { armComparison, type PrimaryMetricSummaries } from './judge-experiment';
import type { SequentialInterval } from './sequential-interval';

export interface MetricGuardrailVerdict {
  arm: string;
  metric: MetricGuardrail['metric'];
  feature: string | null;
  maxDrop: number;
  /** Proven lower than the control by more than `maxDrop`: stop the arm. */
  harmful: boolean;
  /** Arm vs control at `alphaEach`; the drop is measured on `relative*`. */
  interval: SequentialInterval;
  sample: number;
  controlSample: number;
  alphaEach: number;
}

export interface MetricGuardrailInput {
  guardrails: readonly MetricGuardrail[];
  /** The arms to judge (the running treatment arms). */
  arms: readonly string[];
  control: string;
  /** The experiment's chance of ever stopping an arm whose drop is within its allowance, split over arms × guardrails. */
  alpha: number;
  /** The arms α is split over: every treatment arm, stopped or not, so the split never changes. */
  treatmentArmCount: number;
  /** No arm is judged before it and the control both have this many units. */
  minSamplePerArm: number;
  /** Every arm's summaries of one guardrail's metric (a mean for session length, a rate for feature uses per session). */
  summariesOf: (guardrail: MetricGuardrail) => PrimaryMetricSummaries;
  tuning?: number;
}

/**
 * Judges every arm on every metric guardrail with the primary metric's always-valid sequences, so a
 * guardrail may be looked at on every check: the chance that any sequence ever misses its true
 * value is at most α, hence so is the chance of ever stopping an arm whose true drop is within its
 * allowance. Harmful when the whole relative interval lies below −maxDrop; while the control's
 * mean is 0 (no relative change) only a proven drop with no allowance counts.
 */
export function metricGuardrailVerdicts(input: MetricGuardrailInput): MetricGuardrailVerdict[] {
  const alphaEach = input.alpha / Math.max(1, input.treatmentArmCount * input.guardrails.length);
  return input.guardrails.flatMap((guardrail) => {
    const summaries = input.summariesOf(guardrail);
    const sampleOf = (arm: string) => summaries.arms[arm]?.n ?? 0;
    return input.arms.map((arm): MetricGuardrailVerdict => {
      const interval = armComparison(summaries, arm, input.control, alphaEach, input.tuning);
      const judged = sampleOf(arm) >= input.minSamplePerArm && sampleOf(input.control) >= input.minSamplePerArm;
      return {
        arm,
        metric: guardrail.metric,
        feature: guardrail.feature ?? null,
        maxDrop: guardrail.maxDrop,
        harmful: judged && provenDrop(interval, guardrail.maxDrop),
        interval,
        sample: sampleOf(arm),
        controlSample: sampleOf(input.control),
        alphaEach,
      };
    });
  });
}

function provenDrop(interval: SequentialInterval, maxDrop: number): boolean {
  if (interval.relativeUpper !== null) return interval.relativeUpper < -maxDrop;
  return maxDrop === 0 && interval.upper < 0;
}
