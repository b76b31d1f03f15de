import { chiSquareSurvival } from './chi-square-survival';

export interface PearsonChiSquare {
  chiSquare: number;
  /** Cells with a positive expected share, less one. */
  degreesOfFreedom: number;
  pValue: number;
}

/**
 * Pearson's goodness-of-fit test of counts against expected shares (any non-negative weights:
 * basis points, fractions; they are normalised). A cell expected to stay empty adds nothing while
 * it is empty and makes the fit impossible (p = 0) once it is not. Nothing to test — under two
 * cells that may hold units, or no units at all — is a perfect fit (p = 1).
 */
export function pearsonChiSquare(observed: readonly number[], expectedShares: readonly number[]): PearsonChiSquare {
  if (observed.length !== expectedShares.length) {
    throw new RangeError(`pearsonChiSquare: ${observed.length} observed counts for ${expectedShares.length} expected shares`);
  }
  const weight = expectedShares.reduce((s, w) => s + Math.max(0, w), 0);
  const total = observed.reduce((s, o) => s + Math.max(0, o), 0);
  const cells = expectedShares.filter((w) => w > 0).length;
  if (weight <= 0 || total <= 0 || cells < 2) return { chiSquare: 0, degreesOfFreedom: Math.max(0, cells - 1), pValue: 1 };
  let chiSquare = 0;
  for (const [i, w] of expectedShares.entries()) {
    const o = Math.max(0, observed[i] ?? 0);
    if (w <= 0) {
      if (o > 0) return { chiSquare: Infinity, degreesOfFreedom: cells - 1, pValue: 0 };
      continue;
    }
    const expected = (total * w) / weight;
    chiSquare += (o - expected) ** 2 / expected;
  }
  return { chiSquare, degreesOfFreedom: cells - 1, pValue: chiSquareSurvival(chiSquare, cells - 1) };
}
