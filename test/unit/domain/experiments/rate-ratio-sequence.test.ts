import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEQUENCE_TUNING, mixtureHalfWidth } from '../../../../domain/experiments/normal-mixture-boundary';
import { rateRatioSequence, type RateSummary } from '../../../../domain/experiments/rate-ratio-sequence';
import { createRng, type Rng } from '../../../../scripts/support/prng';

/** Knuth's product-of-uniforms Poisson draw; exact, and quick for the means used here (≤ 100). */
function poisson(rng: Rng, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let product = rng.next();
  while (product > limit) {
    k++;
    product *= rng.next();
  }
  return k;
}

/**
 * Replicates in which the interval missed the true r − 1 at some look, each look adding `perLook`
 * sessions to each arm (treatment weighted by `weightT`) with Poisson uses at the given rates.
 */
function replicatesMissing(seed: number, replicates: number, looks: number, perLook: number, rates: [number, number], weightT = 1): number {
  const truth = rates[0] / rates[1] - 1;
  const rng = createRng([seed]);
  let missed = 0;
  for (let r = 0; r < replicates; r++) {
    const t: RateSummary = { n: 0, events: 0 };
    const c: RateSummary = { n: 0, events: 0 };
    for (let look = 0; look < looks; look++) {
      t.n += perLook * weightT;
      t.events += poisson(rng, perLook * weightT * rates[0]);
      c.n += perLook;
      c.events += poisson(rng, perLook * rates[1]);
      const i = rateRatioSequence(t, c, 0.05, 2000);
      if (i.lower > truth || i.upper < truth) {
        missed++;
        break;
      }
    }
  }
  return missed;
}

describe(rateRatioSequence.name, () => {
  it('estimates the ratio of uses per session, with the conditional binomial’s mixture width mapped to the ratio', () => {
    const interval = rateRatioSequence({ n: 1000, events: 600 }, { n: 2000, events: 1000 }, 0.05);
    // 0.6 uses/session against 0.5.
    expect(interval.estimate).toBeCloseTo(0.2, 12);
    expect(interval.relativeEstimate).toBeCloseTo(0.2, 12);
    const adjusted = 601 / 1602;
    const half = mixtureHalfWidth((adjusted * (1 - adjusted)) / 1602, 1600, 0.05, DEFAULT_SEQUENCE_TUNING);
    const toRatio = (pi: number) => (pi / (1 - pi)) * 2 - 1;
    expect(interval.lower).toBeCloseTo(toRatio(600 / 1600 - half), 12);
    expect(interval.upper).toBeCloseTo(toRatio(600 / 1600 + half), 12);
    expect(interval.relativeLower).toBe(interval.lower);
  });

  it('keeps its coverage under continuous peeking when the rates are equal (≤ α of replicates ever miss)', () => {
    // 400 replicates, 60 looks each: a fixed-horizon 95 % interval peeked at this often misses in far more than 5 %.
    const missed = replicatesMissing(17, 400, 60, 50, [0.4, 0.4]);
    expect(missed / 400).toBeLessThanOrEqual(0.05);
  });

  it('keeps its coverage at a true ratio of 1.3 with unequal arm weights', () => {
    const missed = replicatesMissing(23, 400, 60, 40, [0.52, 0.4], 2);
    expect(missed / 400).toBeLessThanOrEqual(0.05);
  });

  it('separates a real difference from 0 once uses accumulate', () => {
    const interval = rateRatioSequence({ n: 20_000, events: 6000 }, { n: 20_000, events: 5000 }, 0.05);
    expect(interval.lower).toBeGreaterThan(0);
    expect(interval.upper).toBeGreaterThan(interval.estimate);
    expect(interval.pValue).toBeLessThanOrEqual(0.05);
  });

  it('has its p-value at or below α exactly when the interval excludes 0, and always holds its estimate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50_000 }), fc.integer({ min: 1, max: 50_000 }), fc.nat(5000), fc.nat(5000), (nt, nc, xt, xc) => {
        fc.pre(xt + xc > 0 && xc > 0);
        const i = rateRatioSequence({ n: nt, events: xt }, { n: nc, events: xc }, 0.05);
        expect(i.lower).toBeLessThanOrEqual(i.estimate + 1e-9);
        expect(i.upper).toBeGreaterThanOrEqual(i.estimate - 1e-9);
        expect(i.lower).toBeGreaterThanOrEqual(-1);
        const excludes = i.lower > 0 || i.upper < 0;
        // Ties at the boundary within rounding are not a disagreement.
        if (Math.abs(i.pValue - 0.05) > 1e-9) expect(i.pValue <= 0.05).toBe(excludes);
      }),
    );
  });

  it('is uninformative without exposure or uses, and does not collapse before the control has a use', () => {
    expect(rateRatioSequence({ n: 0, events: 0 }, { n: 100, events: 30 }, 0.05)).toMatchObject({ lower: -Infinity, upper: Infinity, pValue: 1 });
    expect(rateRatioSequence({ n: 100, events: 0 }, { n: 100, events: 0 }, 0.05)).toMatchObject({ lower: -Infinity, upper: Infinity, pValue: 1 });
    const noControlUse = rateRatioSequence({ n: 100, events: 3 }, { n: 100, events: 0 }, 0.05);
    expect(noControlUse.upper).toBe(Infinity);
    expect(noControlUse.relativeUpper).toBeNull();
    expect(noControlUse.pValue).toBeGreaterThan(0.05);
  });
});
