import { DEFAULT_SEQUENCE_TUNING } from './normal-mixture-boundary';
import { type ArmMoments, type SequentialInterval, sequentialInterval, uninformativeInterval } from './sequential-interval';

/** One arm's units and the units with the event (sessions and crashed sessions, devices and devices that used a feature). */
export interface ProportionSummary {
  n: number;
  x: number;
}

/**
 * Proportion and the variance of it. The variance uses Agresti–Caffo's p̃ = (x + 1)/(n + 2) so that
 * an arm with no event (or only events) yet does not claim zero variance — which would make its
 * interval collapse to a point after a handful of units; null without units.
 */
export function proportionMoments(summary: ProportionSummary): ArmMoments | null {
  const n = summary.n;
  if (!(n >= 1)) return null;
  const x = Math.min(Math.max(summary.x, 0), n);
  const adjusted = (x + 1) / (n + 2);
  return { n, mean: x / n, varianceOfMean: (adjusted * (1 - adjusted)) / (n + 2) };
}

/**
 * Always-valid (1 − α) confidence sequence of p(treatment) − p(control) (normal mixture,
 * gates.md §3.6). `tuning`: total units of both arms where the interval is tightest.
 */
export function proportionDifferenceSequence(
  treatment: ProportionSummary,
  control: ProportionSummary,
  alpha: number,
  tuning: number = DEFAULT_SEQUENCE_TUNING,
): SequentialInterval {
  const t = proportionMoments(treatment);
  const c = proportionMoments(control);
  if (t === null || c === null) return uninformativeInterval(0);
  return sequentialInterval(t, c, alpha, tuning);
}
