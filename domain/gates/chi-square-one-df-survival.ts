import { erfc } from './erfc';

/** P(χ²₁ ≥ x): a χ² with one degree of freedom is a squared standard normal, so P = erfc(√(x/2)). */
export function chiSquareOneDfSurvival(x: number): number {
  if (!(x > 0)) return 1;
  return erfc(Math.sqrt(x / 2));
}
