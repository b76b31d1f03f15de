import { pearsonChiSquare } from '../gates/pearson-chi-square';

/**
 * GrowthBook's threshold for an experiment's sample-ratio check. Looser than the rollout gate's
 * SRM_P_VALUE, which runs on every window of every release: an experiment's split is checked on
 * its cumulative units, where a real assignment bug soon pushes p far below either.
 */
export const EXPERIMENT_SRM_P_VALUE = 0.001;

/**
 * χ² test (k − 1 degrees of freedom) of the units seen per arm against the arms' shares of the
 * split (any weights: basis points or fractions). `mismatch` when p < alpha: the assignment or the
 * counting is broken and no comparison between the arms can be trusted.
 */
export function sampleRatioCheck(
  observed: readonly number[],
  expectedShares: readonly number[],
  alpha: number = EXPERIMENT_SRM_P_VALUE,
): { pValue: number; mismatch: boolean } {
  const { pValue } = pearsonChiSquare(observed, expectedShares);
  return { pValue, mismatch: pValue < alpha };
}
