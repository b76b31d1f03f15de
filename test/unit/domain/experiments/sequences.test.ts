import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type MeanSummary, meanDifferenceSequence } from '../../../../domain/experiments/mean-difference-sequence';
import { DEFAULT_SEQUENCE_TUNING, mixtureHalfWidth, mixturePValue } from '../../../../domain/experiments/normal-mixture-boundary';
import { proportionDifferenceSequence } from '../../../../domain/experiments/proportion-difference-sequence';
import { logNormal, standardNormal } from '../../../../bench/experiment-simulator/random-variates';
import { binomial } from '../../../../bench/gate-simulator/binomial';
import { createRng } from '../../../../scripts/support/prng';

const Z_975 = 1.959963984540054;

/** A summary of n units whose metric has the given mean and sample variance. */
function summary(n: number, mean: number, variance: number): MeanSummary {
  const sum = n * mean;
  return { n, sum, sumOfSquares: variance * (n - 1) + sum * mean };
}

describe(mixtureHalfWidth.name, () => {
  it('equals GrowthBook’s GAVI half-width (gates.md §3.6) transcribed independently', () => {
    for (const [se2, n, alpha, tuning] of [
      [4, 1000, 0.05, 5000],
      [0.25, 20_000, 0.01, 10_000],
      [1e6, 50, 0.1, 2000],
    ] as const) {
      const rho = Math.sqrt((-2 * Math.log(alpha) + Math.log(-2 * Math.log(alpha) + 1)) / tuning);
      const s2 = se2 * n;
      const expected = Math.sqrt(s2) * Math.sqrt((2 * (n * rho ** 2 + 1) * Math.log(Math.sqrt(n * rho ** 2 + 1) / alpha)) / (n * rho) ** 2);
      expect(mixtureHalfWidth(se2, n, alpha, tuning) / expected).toBeCloseTo(1, 12);
    }
  });

  it('narrows as units accrue at a fixed spread, widens as α shrinks, and is always wider than the fixed-horizon interval', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 1e-4, max: 0.3, noNaN: true }),
        fc.double({ min: 0.01, max: 1e4, noNaN: true }),
        (n, more, alpha, sigma2) => {
          const at = (units: number, a = alpha) => mixtureHalfWidth(sigma2 / units, units, a, DEFAULT_SEQUENCE_TUNING);
          expect(at(n + more)).toBeLessThan(at(n));
          expect(at(n, alpha / 2)).toBeGreaterThan(at(n));
          expect(at(n, 0.05)).toBeGreaterThan(Z_975 * Math.sqrt(sigma2 / n));
        },
      ),
    );
  });

  it('refuses α outside (0, 1) and a non-positive tuning', () => {
    expect(() => mixtureHalfWidth(1, 10, 0, 100)).toThrow(RangeError);
    expect(() => mixtureHalfWidth(1, 10, 1, 100)).toThrow(RangeError);
    expect(() => mixtureHalfWidth(1, 10, 0.05, 0)).toThrow(RangeError);
  });
});

describe(mixturePValue.name, () => {
  it('is at or below α exactly when the interval of the same α excludes 0', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        fc.integer({ min: 2, max: 100_000 }),
        fc.double({ min: 1e-3, max: 0.2, noNaN: true }),
        (estimate, variance, n, alpha) => {
          const half = mixtureHalfWidth(variance, n, alpha, DEFAULT_SEQUENCE_TUNING);
          const p = mixturePValue(estimate, variance, n, alpha, DEFAULT_SEQUENCE_TUNING);
          // Away from the boundary itself, where rounding may fall either way.
          fc.pre(Math.abs(Math.abs(estimate) - half) > 1e-9 * (1 + half));
          expect(p <= alpha).toBe(Math.abs(estimate) > half);
          expect(p).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});

describe(meanDifferenceSequence.name, () => {
  it('centres on the difference of the means and reports the change relative to the control (delta method)', () => {
    const treatment = summary(4000, 105, 100 ** 2);
    const control = summary(5000, 100, 90 ** 2);
    const interval = meanDifferenceSequence(treatment, control, 0.05);
    expect(interval.estimate).toBeCloseTo(5, 9);
    const variance = 100 ** 2 / 4000 + 90 ** 2 / 5000;
    const half = mixtureHalfWidth(variance, 9000, 0.05, DEFAULT_SEQUENCE_TUNING);
    expect(interval.lower).toBeCloseTo(5 - half, 9);
    expect(interval.upper).toBeCloseTo(5 + half, 9);
    expect(interval.relativeEstimate).toBeCloseTo(0.05, 12);
    const relativeVariance = 100 ** 2 / 4000 / 100 ** 2 + (105 ** 2 * (90 ** 2 / 5000)) / 100 ** 4;
    const relativeHalf = mixtureHalfWidth(relativeVariance, 9000, 0.05, DEFAULT_SEQUENCE_TUNING);
    expect(interval.relativeLower).toBeCloseTo(0.05 - relativeHalf, 12);
    expect(interval.relativeUpper).toBeCloseTo(0.05 + relativeHalf, 12);
    expect(interval.pValue).toBeCloseTo(mixturePValue(5, variance, 9000, 0.05, DEFAULT_SEQUENCE_TUNING), 12);
  });

  it('is uninformative (infinite bounds, p = 1) while an arm has fewer than two units', () => {
    for (const [t, c] of [
      [summary(0, 0, 0), summary(100, 10, 4)],
      [{ n: 1, sum: 12, sumOfSquares: 144 }, summary(100, 10, 4)],
      [summary(100, 10, 4), { n: 0, sum: 0, sumOfSquares: 0 }],
    ] as const) {
      const interval = meanDifferenceSequence(t, c, 0.05);
      expect(interval).toMatchObject({ lower: -Infinity, upper: Infinity, relativeEstimate: null, pValue: 1 });
    }
    expect(meanDifferenceSequence({ n: 1, sum: 12, sumOfSquares: 144 }, summary(100, 10, 4), 0.05).estimate).toBeCloseTo(2, 12);
    expect(meanDifferenceSequence(summary(0, 0, 0), summary(100, 10, 4), 0.05).estimate).toBe(0);
  });

  it('collapses to a point with zero variance, and has no relative change when the control mean is 0', () => {
    const constant = (n: number, value: number): MeanSummary => ({ n, sum: n * value, sumOfSquares: n * value * value });
    expect(meanDifferenceSequence(constant(10, 3), constant(10, 3), 0.05)).toEqual({
      estimate: 0, lower: 0, upper: 0, relativeEstimate: 0, relativeLower: 0, relativeUpper: 0, pValue: 1,
    });
    const apart = meanDifferenceSequence(constant(10, 4), constant(10, 3), 0.05);
    expect([apart.lower, apart.upper, apart.pValue]).toEqual([1, 1, 0]);
    const zeroControl = meanDifferenceSequence(summary(50, 1, 1), summary(50, 0, 1), 0.05);
    expect([zeroControl.relativeEstimate, zeroControl.relativeLower, zeroControl.relativeUpper]).toEqual([null, null, null]);
    expect(Number.isFinite(zeroControl.lower)).toBe(true);
  });

  it('never lets a round-off negative variance through (large values, tiny spread)', () => {
    const n = 1000;
    const value = 123_456_789.1;
    const interval = meanDifferenceSequence({ n, sum: n * value, sumOfSquares: n * value * value * (1 - 1e-16) }, summary(n, value, 1), 0.05);
    expect(Number.isFinite(interval.lower)).toBe(true);
    expect(interval.upper).toBeGreaterThanOrEqual(interval.lower);
  });

  it('keeps the true difference inside the sequence at every look with probability ≥ 1 − α (seeded simulation)', () => {
    // 400 experiments, 100 looks of 20 units per arm each (2000 per arm at the end), under H0 and
    // with a true difference of 0.1σ. Ville's bound is for the exact Gaussian; the plug-in variance
    // and the first looks' small samples are what this checks.
    const replicates = 400;
    const looks = 100;
    const perLook = 20;
    for (const [trueDifference, seed] of [
      [0, 1],
      [0.1, 2],
    ] as const) {
      const rng = createRng([seed]);
      let missed = 0;
      for (let r = 0; r < replicates; r++) {
        const t: MeanSummary = { n: 0, sum: 0, sumOfSquares: 0 };
        const c: MeanSummary = { n: 0, sum: 0, sumOfSquares: 0 };
        for (let look = 0; look < looks; look++) {
          for (let i = 0; i < perLook; i++) {
            const y = trueDifference + standardNormal(rng);
            const z = standardNormal(rng);
            t.n += 1;
            t.sum += y;
            t.sumOfSquares += y * y;
            c.n += 1;
            c.sum += z;
            c.sumOfSquares += z * z;
          }
          const interval = meanDifferenceSequence(t, c, 0.05, 2000);
          if (interval.lower > trueDifference || interval.upper < trueDifference) {
            missed++;
            break;
          }
        }
      }
      // 5 % of 400 is 20; the binomial 99.9 % upper point is 35.
      expect(missed).toBeLessThanOrEqual(35);
    }
  });

  it('keeps a log-normal metric’s H0 false-positive rate under α at every look, as session durations would have it', () => {
    const rng = createRng([3]);
    let rejected = 0;
    for (let r = 0; r < 300; r++) {
      const t: MeanSummary = { n: 0, sum: 0, sumOfSquares: 0 };
      const c: MeanSummary = { n: 0, sum: 0, sumOfSquares: 0 };
      for (let look = 0; look < 60; look++) {
        for (let i = 0; i < 50; i++) {
          const y = logNormal(rng, 60_000, 1);
          const z = logNormal(rng, 60_000, 1);
          t.n += 1;
          t.sum += y;
          t.sumOfSquares += y * y;
          c.n += 1;
          c.sum += z;
          c.sumOfSquares += z * z;
        }
        if (meanDifferenceSequence(t, c, 0.05).pValue <= 0.05) {
          rejected++;
          break;
        }
      }
    }
    // 5 % of 300 is 15; the binomial 99.9 % upper point is 28.
    expect(rejected).toBeLessThanOrEqual(28);
  });
});

describe(proportionDifferenceSequence.name, () => {
  it('centres on the difference of the proportions and uses the Agresti–Caffo variance', () => {
    const interval = proportionDifferenceSequence({ n: 10_000, x: 2100 }, { n: 10_000, x: 2000 }, 0.05);
    expect(interval.estimate).toBeCloseTo(0.01, 12);
    const pt = 2101 / 10_002;
    const pc = 2001 / 10_002;
    const half = mixtureHalfWidth((pt * (1 - pt)) / 10_002 + (pc * (1 - pc)) / 10_002, 20_000, 0.05, DEFAULT_SEQUENCE_TUNING);
    expect(interval.upper - interval.lower).toBeCloseTo(2 * half, 12);
    expect(interval.relativeEstimate).toBeCloseTo(0.05, 12);
  });

  it('does not collapse when neither arm has seen an event yet, and is uninformative without units', () => {
    const none = proportionDifferenceSequence({ n: 20, x: 0 }, { n: 20, x: 0 }, 0.05);
    expect(none.estimate).toBe(0);
    expect(none.upper).toBeGreaterThan(0.1);
    expect(none.relativeEstimate).toBeNull();
    expect(none.pValue).toBe(1);
    expect(proportionDifferenceSequence({ n: 0, x: 0 }, { n: 20, x: 3 }, 0.05)).toMatchObject({ lower: -Infinity, upper: Infinity, pValue: 1 });
  });

  it('clamps impossible counts (x > n, x < 0) instead of producing NaN', () => {
    const interval = proportionDifferenceSequence({ n: 10, x: 12 }, { n: 10, x: -1 }, 0.05);
    expect(interval.estimate).toBe(1);
    expect(Number.isFinite(interval.lower)).toBe(true);
  });

  it('keeps its H0 false-positive rate under α at every look for a rare event (seeded simulation)', () => {
    const rng = createRng([4]);
    let rejected = 0;
    for (let r = 0; r < 400; r++) {
      const t = { n: 0, x: 0 };
      const c = { n: 0, x: 0 };
      for (let look = 0; look < 200; look++) {
        t.n += 100;
        t.x += binomial(rng, 100, 0.02);
        c.n += 100;
        c.x += binomial(rng, 100, 0.02);
        if (proportionDifferenceSequence(t, c, 0.05).pValue <= 0.05) {
          rejected++;
          break;
        }
      }
    }
    expect(rejected).toBeLessThanOrEqual(35);
  });
});
