import { DEFAULT_SEQUENCE_TUNING, mixtureHalfWidth, mixturePValue } from './normal-mixture-boundary';
import { type SequentialInterval, uninformativeInterval } from './sequential-interval';

/** One arm's exposure (e.g. sessions) and the events counted over it (e.g. uses of a feature). */
export interface RateSummary {
  n: number;
  events: number;
}

/**
 * Always-valid (1 − α) confidence sequence of the rate ratio r = λ(treatment)/λ(control) − 1 of
 * two Poisson counts over their exposures (uses per session), in the fields of a SequentialInterval:
 * estimate/lower/upper and relative* both hold r − 1, as only the ratio has a sound interval here.
 *
 * Conditioned on the total N = x_t + x_c, each event falls in the treatment arm with probability
 * π = r·e_t / (r·e_t + e_c): a binomial proportion, with no nuisance rate left and no variance to
 * estimate from per-unit squares (which the rollups do not keep). π gets the normal-mixture sequence
 * on N events (gates.md §3.6) with the Agresti adjustment of the proportion sequence, and each bound
 * maps monotonically to r = π/(1 − π) · e_c/e_t, so the ratio's interval keeps the coverage. The
 * p-value tests π = e_t/(e_t + e_c), i.e. r = 1, and is ≤ α exactly when the interval excludes 0.
 *
 * Assumes the counts are Poisson given exposure and the arms' exposures grow in a steady ratio (fixed
 * arm weights). Uses clustered in sessions (one user using a feature ten times at once) are
 * overdispersed, which makes the interval too narrow; the rollups keep sums only, so that cannot be
 * corrected here (README, "feature_use").
 */
export function rateRatioSequence(treatment: RateSummary, control: RateSummary, alpha: number, tuning: number = DEFAULT_SEQUENCE_TUNING): SequentialInterval {
  const { n: exposureT, events: xt } = treatment;
  const { n: exposureC, events: xc } = control;
  if (!(exposureT > 0 && exposureC > 0)) return uninformativeInterval(0);
  const total = xt + xc;
  const exposureRatio = exposureC / exposureT;
  const ratio = (pi: number) => (pi >= 1 ? Infinity : (pi / (1 - pi)) * exposureRatio) - 1;
  const estimate = xc > 0 ? ratio(xt / total) : xt > 0 ? Infinity : 0;
  if (!(total > 0)) return uninformativeInterval(estimate);
  const adjusted = (xt + 1) / (total + 2);
  const variance = (adjusted * (1 - adjusted)) / (total + 2);
  const half = mixtureHalfWidth(variance, total, alpha, tuning);
  const lower = ratio(Math.max(0, xt / total - half));
  const upper = ratio(Math.min(1, xt / total + half));
  const pValue = mixturePValue(xt / total - exposureT / (exposureT + exposureC), variance, total, alpha, tuning);
  const relative = (x: number) => (Number.isFinite(x) ? x : null);
  return { estimate, lower, upper, relativeEstimate: relative(estimate), relativeLower: relative(lower), relativeUpper: relative(upper), pValue };
}
