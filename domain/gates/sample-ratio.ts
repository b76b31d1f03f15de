import { controlSliceBps } from '../bucketing';
import { pearsonChiSquare } from './pearson-chi-square';

/**
 * The check runs on every window, so GrowthBook's one-off 0.001 would pause good releases a few
 * times in a hundred over hundreds of checks; a real assignment bug shows up far below this anyway.
 */
export const SRM_P_VALUE = 0.00001;
export const SRM_MIN_DEVICES = 8;

export interface SampleRatioCheck {
  chiSquare: number;
  pValue: number;
  /** Share of the two slices' devices the canary slice should hold. */
  expectedCanaryShare: number;
  mismatch: boolean;
}

/**
 * χ² test (1 df) of the devices seen in the canary and control slices against the slices' sizes.
 * Null when it cannot be judged: no control slice, or fewer than SRM_MIN_DEVICES in either slice.
 */
export function sampleRatioCheck(canarySliceDevices: number, controlSliceDevices: number, exposureBps: number): SampleRatioCheck | null {
  const controlBps = controlSliceBps(exposureBps);
  if (exposureBps <= 0 || controlBps <= 0) return null;
  if (canarySliceDevices < SRM_MIN_DEVICES || controlSliceDevices < SRM_MIN_DEVICES) return null;
  const expectedCanaryShare = exposureBps / (exposureBps + controlBps);
  const { chiSquare, pValue } = pearsonChiSquare([canarySliceDevices, controlSliceDevices], [exposureBps, controlBps]);
  return { chiSquare, pValue, expectedCanaryShare, mismatch: pValue < SRM_P_VALUE };
}
