import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chiSquareSurvival } from '../../../../domain/gates/chi-square-survival';
import { pearsonChiSquare } from '../../../../domain/gates/pearson-chi-square';
import { erfc } from '../../../../domain/gates/erfc';
import { logSumExp } from '../../../../domain/gates/log-sum-exp';

describe(erfc.name, () => {
  it('matches reference values to near machine precision, far tail included', () => {
    // Values from Abramowitz & Stegun table 7.1 / mpmath at 30 digits.
    const cases: Array<[number, number]> = [
      [0, 1],
      [0.1, 0.887537083981715],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [1.5, 0.033894853524689274],
      [2, 0.004677734981047266],
      [3, 2.209049699858544e-5],
      [5, 1.5374597944280349e-12],
      [10, 2.088487583762545e-45],
      [-1, 1.8427007929497148],
    ];
    for (const [x, expected] of cases) expect(erfc(x) / expected).toBeCloseTo(1, 13);
  });

  it('is continuous where the series hands over to the continued fraction', () => {
    expect(erfc(1.5 - 1e-12) / erfc(1.5)).toBeCloseTo(1, 10);
  });

  it('satisfies erfc(x) + erfc(−x) = 2 and decreases monotonically', () => {
    fc.assert(
      fc.property(fc.double({ min: -4, max: 6, noNaN: true }), fc.double({ min: 1e-6, max: 1, noNaN: true }), (x, step) => {
        expect(erfc(x) + erfc(-x)).toBeCloseTo(2, 14);
        expect(erfc(x + step)).toBeLessThan(erfc(x));
      }),
    );
  });
});

describe(chiSquareSurvival.name, () => {
  it('matches the χ²(1) critical values', () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquareSurvival(6.634896601021214, 1)).toBeCloseTo(0.01, 12);
    expect(chiSquareSurvival(10.827566170662733, 1)).toBeCloseTo(0.001, 12);
    expect(chiSquareSurvival(10.828, 1)).toBeCloseTo(0.001, 6);
    expect(chiSquareSurvival(0, 1)).toBe(1);
  });

  it('matches published critical values for 2 to 9 degrees of freedom', () => {
    // Upper 5 %, 1 % and 0.1 % points (NIST/SEMATECH e-Handbook, table 1.3.6.7.4; scipy.stats.chi2.isf).
    const points: Array<[number, number, number, number]> = [
      [2, 5.991464547107979, 9.21034037197618, 13.815510557964274],
      [3, 7.814727903251178, 11.344866730144373, 16.26623619623813],
      [4, 9.487729036781154, 13.276704135987622, 18.46682695290317],
      [5, 11.070497693516351, 15.08627246938899, 20.515005652432873],
      [6, 12.591587243743977, 16.811893829770927, 22.457744484825323],
      [9, 16.918977604620448, 21.665994333461924, 27.877164871256568],
    ];
    for (const [df, p05, p01, p001] of points) {
      expect(chiSquareSurvival(p05, df)).toBeCloseTo(0.05, 10);
      expect(chiSquareSurvival(p01, df)).toBeCloseTo(0.01, 10);
      expect(chiSquareSurvival(p001, df) / 0.001).toBeCloseTo(1, 8);
    }
  });

  it('decreases in x, increases in df, and stays within [0, 1]', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 200, noNaN: true }), fc.double({ min: 1e-3, max: 10, noNaN: true }), fc.integer({ min: 1, max: 30 }), (x, step, df) => {
        const p = chiSquareSurvival(x, df);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
        expect(chiSquareSurvival(x + step, df)).toBeLessThanOrEqual(p);
        expect(chiSquareSurvival(x, df + 1)).toBeGreaterThanOrEqual(p - 1e-15);
      }),
    );
  });

  it('refuses a degree of freedom that is not a positive integer', () => {
    expect(() => chiSquareSurvival(1, 0)).toThrow(RangeError);
    expect(() => chiSquareSurvival(1, 1.5)).toThrow(RangeError);
  });
});

describe(pearsonChiSquare.name, () => {
  it('sums (O − E)²/E over the cells with k − 1 degrees of freedom, whatever the share units', () => {
    // 3 arms at 1/3 each, 1200 units: expected 400 each.
    const test = pearsonChiSquare([380, 400, 420], [3333, 3333, 3333]);
    expect(test.chiSquare).toBeCloseTo((20 ** 2 + 0 + 20 ** 2) / 400, 10);
    expect(test.degreesOfFreedom).toBe(2);
    expect(test.pValue).toBeCloseTo(Math.exp(-test.chiSquare / 2), 12);
  });

  it('treats an empty expected cell as absent until something lands in it', () => {
    expect(pearsonChiSquare([50, 50, 0], [1, 1, 0])).toEqual({ chiSquare: 0, degreesOfFreedom: 1, pValue: 1 });
    expect(pearsonChiSquare([50, 50, 1], [1, 1, 0]).pValue).toBe(0);
  });

  it('has nothing to test without units or with a single possible cell', () => {
    expect(pearsonChiSquare([0, 0], [1, 1]).pValue).toBe(1);
    expect(pearsonChiSquare([10], [1]).pValue).toBe(1);
    expect(() => pearsonChiSquare([1, 2], [1])).toThrow(RangeError);
  });
});

describe(logSumExp.name, () => {
  it('equals the naive sum where that is representable and stays finite where it is not', () => {
    expect(logSumExp([Math.log(1), Math.log(2), Math.log(3)])).toBeCloseTo(Math.log(6), 14);
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logSumExp([-1000, -1000])).toBeCloseTo(-1000 + Math.LN2, 12);
  });
});
