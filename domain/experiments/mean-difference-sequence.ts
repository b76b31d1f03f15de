import { DEFAULT_SEQUENCE_TUNING } from './normal-mixture-boundary';
import { type ArmMoments, type SequentialInterval, sequentialInterval, uninformativeInterval } from './sequential-interval';

/** One arm's units, and the sum and sum of squares of the metric over them (e.g. session durations in ms). */
export interface MeanSummary {
  n: number;
  sum: number;
  sumOfSquares: number;
}

/** Mean and variance of the mean; null under two units (no variance to estimate). */
export function meanMoments(summary: MeanSummary): ArmMoments | null {
  const { n, sum, sumOfSquares } = summary;
  if (!(n >= 2)) return null;
  const mean = sum / n;
  // Σx² − n·x̄² cancels in floating point when the spread is tiny next to the mean; never below 0.
  const sampleVariance = Math.max(0, (sumOfSquares - sum * mean) / (n - 1));
  return { n, mean, varianceOfMean: sampleVariance / n };
}

/**
 * Always-valid (1 − α) confidence sequence of mean(treatment) − mean(control) (normal mixture,
 * gates.md §3.6). `tuning`: total units of both arms where the interval is tightest.
 */
export function meanDifferenceSequence(
  treatment: MeanSummary,
  control: MeanSummary,
  alpha: number,
  tuning: number = DEFAULT_SEQUENCE_TUNING,
): SequentialInterval {
  const t = meanMoments(treatment);
  const c = meanMoments(control);
  if (t === null || c === null) return uninformativeInterval(knownDifference(treatment, control));
  return sequentialInterval(t, c, alpha, tuning);
}

/** The difference of the means that exist; 0 while either arm has no unit at all. */
function knownDifference(treatment: MeanSummary, control: MeanSummary): number {
  return treatment.n > 0 && control.n > 0 ? treatment.sum / treatment.n - control.sum / control.n : 0;
}
