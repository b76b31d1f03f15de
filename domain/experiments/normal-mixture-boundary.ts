/**
 * Default tuning of the confidence sequences: the total sample (units in both arms compared) at
 * which the interval is narrowest. 10 000 is Eppo's default N_tune; GrowthBook uses 5000. An app
 * experiment on session duration (coefficient of variation ≈ 1) needs about 12 500 units in two
 * arms to see a 5 % change with a fixed-horizon test, so 10 000 puts the tightest point near
 * where such experiments decide; a badly chosen value costs width, never validity.
 */
export const DEFAULT_SEQUENCE_TUNING = 10_000;

/**
 * nρ² of the normal mixture (gates.md §3.6, GrowthBook's GAVI): the ratio of the mixing variance
 * to the estimate's variance after n units, with ρ chosen so that the boundary is tightest at
 * n = tuning for a two-sided level α.
 */
function mixtureRatio(n: number, alpha: number, tuning: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(tuning > 0)) throw new RangeError(`tuning must be positive, got ${tuning}`);
  const l = -2 * Math.log(alpha);
  return (n * (l + Math.log(l + 1))) / tuning;
}

/**
 * Half-width of the (1 − α) normal-mixture confidence sequence for an estimate with the given
 * variance after n units: √(2V·(1 + a)/a · ln(√(1 + a)/α)) with a = nρ². Ville's inequality
 * bounds the chance that the true value ever leaves the interval, over every n, by α — so it may
 * be checked after every unit. It grows like √(V·ln n) against √V for a fixed-horizon interval.
 */
export function mixtureHalfWidth(variance: number, n: number, alpha: number, tuning: number): number {
  const a = mixtureRatio(n, alpha, tuning);
  if (!(variance > 0)) return 0;
  return Math.sqrt(((2 * variance * (1 + a)) / a) * Math.log(Math.sqrt(1 + a) / alpha));
}

/**
 * Always-valid p-value of "the true value is 0": 1/Λ for the mixture likelihood ratio
 * Λ = exp(z²·a/(2(1 + a))) / √(1 + a), z² = estimate²/V, capped at 1. It is at or below α exactly
 * when the interval of the same α and tuning excludes 0. Valid at any look on its own; a caller
 * that keeps state may also report its running minimum.
 */
export function mixturePValue(estimate: number, variance: number, n: number, alpha: number, tuning: number): number {
  const a = mixtureRatio(n, alpha, tuning);
  if (!(variance > 0)) return estimate === 0 ? 1 : 0;
  const logLambda = ((estimate * estimate) / variance) * (a / (2 * (1 + a))) - 0.5 * Math.log1p(a);
  return Math.min(1, Math.exp(-logLambda));
}
