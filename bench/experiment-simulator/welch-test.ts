import type { MeanSummary } from '../../domain/experiments/mean-difference-sequence';
import { meanMoments } from '../../domain/experiments/mean-difference-sequence';
import type { ProportionSummary } from '../../domain/experiments/proportion-difference-sequence';

/** A proportion as the mean of a 0/1 metric: Σx = Σx² = x. */
export function asMeanSummary(summary: ProportionSummary): MeanSummary {
  return { n: summary.n, sum: summary.x, sumOfSquares: summary.x };
}

/**
 * Student-t quantile from the normal one by the Cornish–Fisher expansion in 1/df (Hill 1970,
 * terms to 1/df³): under 1e-4 from the exact value for df ≥ 10 at the levels simulated here.
 */
function tQuantile(z: number, df: number): number {
  const z2 = z * z;
  const g1 = (z2 + 1) * z / 4;
  const g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
  const g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3;
}

/**
 * The naive baseline: Welch's two-sample t-test of treatment − control, two-sided, as a
 * fixed-horizon test would run it — here at whatever look the caller makes. `z` is the normal
 * quantile of the level (1.96 for α = 0.05). False under two units per arm or without variance.
 */
export function welchSignificant(treatment: MeanSummary, control: MeanSummary, z: number): boolean {
  const t = meanMoments(treatment);
  const c = meanMoments(control);
  if (t === null || c === null) return false;
  const variance = t.varianceOfMean + c.varianceOfMean;
  if (!(variance > 0)) return false;
  const df = variance ** 2 / (t.varianceOfMean ** 2 / (t.n - 1) + c.varianceOfMean ** 2 / (c.n - 1));
  return Math.abs(t.mean - c.mean) / Math.sqrt(variance) > tQuantile(z, df);
}
