import { describe, expect, it } from 'vitest';
import { EXPERIMENT_SRM_P_VALUE, sampleRatioCheck } from '../../../../domain/experiments/sample-ratio-check';

describe(sampleRatioCheck.name, () => {
  it('matches known χ² p-values for two and three arms', () => {
    // 5100 / 4900 of a 50/50 split: χ² = 4, 1 df → p = erfc(√2) = 0.0455003.
    expect(sampleRatioCheck([5100, 4900], [0.5, 0.5]).pValue).toBeCloseTo(0.04550026389635842, 12);
    // 3 arms of 1/3, 3060 / 3000 / 2940: χ² = 2·60²/3000 = 2.4, 2 df → p = e^(−1.2), whatever the share units.
    expect(sampleRatioCheck([3060, 3000, 2940], [3000, 3000, 3000]).pValue).toBeCloseTo(Math.exp(-1.2), 12);
    expect(sampleRatioCheck([3060, 3000, 2940], [1, 1, 1]).pValue).toBeCloseTo(Math.exp(-1.2), 12);
    // 4 arms 40/20/20/20 of 10 000, χ² = 16.266 (3 df) is the 0.1 % point.
    const chi2 = 16.26623619623813;
    const d = Math.sqrt((chi2 * 2000) / 2); // put the whole χ² on two 20 % arms, ±d each
    expect(sampleRatioCheck([4000, 2000 + d, 2000 - d, 2000], [40, 20, 20, 20]).pValue).toBeCloseTo(0.001, 9);
  });

  it('flags a mismatch below p = 0.001 by default, or below the alpha given', () => {
    expect(EXPERIMENT_SRM_P_VALUE).toBe(0.001);
    // χ² = 2·d²/5000 for 5000 ± d: the 0.1 % point is at d ≈ 164.5.
    expect(sampleRatioCheck([5170, 4830], [1, 1]).mismatch).toBe(true);
    expect(sampleRatioCheck([5160, 4840], [1, 1]).mismatch).toBe(false);
    expect(sampleRatioCheck([5160, 4840], [1, 1], 0.01).mismatch).toBe(true);
  });

  it('is silent without units and certain when an arm expected to be empty is not', () => {
    expect(sampleRatioCheck([0, 0, 0], [1, 1, 1])).toEqual({ pValue: 1, mismatch: false });
    expect(sampleRatioCheck([10, 10, 1], [1, 1, 0])).toEqual({ pValue: 0, mismatch: true });
  });
});
