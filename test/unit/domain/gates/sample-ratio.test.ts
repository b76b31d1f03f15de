import { describe, expect, it } from 'vitest';
import { controlSliceBps } from '../../../../domain/bucketing';
import { sampleRatioCheck } from '../../../../domain/gates/sample-ratio';

describe(sampleRatioCheck.name, () => {
  it('computes the 1-df χ² against the slice sizes', () => {
    // 5 % canary and 5 % control: expected 1150/1150 of 2300; χ² = 2·150²/1150.
    const check = sampleRatioCheck(1000, 1300, 500)!;
    expect(check.chiSquare).toBeCloseTo((2 * 150 ** 2) / 1150, 10);
    expect(check.pValue).toBeLessThan(1e-6);
    expect(check.mismatch).toBe(true);
    expect(sampleRatioCheck(1000, 1020, 500)!.mismatch).toBe(false);
  });

  it('uses the capped control slice above 50 % exposure', () => {
    // 60 % canary, 40 % control: 600/400 of 1000 is exactly on target, 500/500 is far off.
    expect(controlSliceBps(6000)).toBe(4000);
    expect(sampleRatioCheck(600, 400, 6000)!.chiSquare).toBeCloseTo(0, 12);
    const check = sampleRatioCheck(500, 500, 6000)!;
    expect(check.chiSquare).toBeCloseTo(100 ** 2 / 600 + 100 ** 2 / 400, 10);
    expect(check.mismatch).toBe(true);
  });

  it('flags at p < 0.00001 exactly: χ² just above 19.51 flags, just below does not', () => {
    // 1:1 slices with n = 10000: χ² = (a − b)²/n, so |a − b| = 442 gives 19.54 and 440 gives 19.36.
    expect(sampleRatioCheck(5221, 4779, 500)!.mismatch).toBe(true);
    expect(sampleRatioCheck(5220, 4780, 500)!.mismatch).toBe(false);
  });

  it('does not judge without a control slice or with fewer than 8 devices in a slice', () => {
    expect(sampleRatioCheck(5000, 0, 10_000)).toBeNull();
    expect(sampleRatioCheck(7, 100, 500)).toBeNull();
    expect(sampleRatioCheck(100, 7, 500)).toBeNull();
  });
});
