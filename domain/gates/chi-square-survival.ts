import { erfc } from './erfc';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * P(χ²_df ≥ x) for a whole number of degrees of freedom, in closed form (Abramowitz & Stegun
 * 26.4.4–26.4.5): for even df, e^(−x/2)·Σ_{j<df/2} (x/2)^j / j!; for odd df, erfc(√(x/2)) plus
 * √(2x/π)·e^(−x/2)·Σ_{j<(df−1)/2} x^j / (3·5·…·(2j+1)). Built on erfc, so the far tail the
 * sample-ratio checks need (p ≈ 1e-5) keeps its precision. Sample-ratio checks have one fewer
 * degree of freedom than arms, so df stays small and the finite sums short.
 */
export function chiSquareSurvival(x: number, df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`chiSquareSurvival: df must be a positive integer, got ${df}`);
  if (!(x > 0)) return 1;
  if (df % 2 === 0) {
    let term = Math.exp(-x / 2);
    let sum = term;
    for (let j = 1; j < df / 2; j++) {
      term *= x / 2 / j;
      sum += term;
    }
    return Math.min(1, sum);
  }
  let term = SQRT_2_OVER_PI * Math.sqrt(x) * Math.exp(-x / 2);
  let sum = 0;
  for (let j = 0; j < (df - 1) / 2; j++) {
    sum += term;
    term *= x / (2 * j + 3);
  }
  return Math.min(1, erfc(Math.sqrt(x / 2)) + sum);
}
