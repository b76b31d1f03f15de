import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chiSquareOneDfSurvival } from '../../../../domain/gates/chi-square-one-df-survival';
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

describe(chiSquareOneDfSurvival.name, () => {
  it('matches the χ²(1) critical values', () => {
    expect(chiSquareOneDfSurvival(3.841458820694124)).toBeCloseTo(0.05, 12);
    expect(chiSquareOneDfSurvival(6.634896601021214)).toBeCloseTo(0.01, 12);
    expect(chiSquareOneDfSurvival(10.827566170662733)).toBeCloseTo(0.001, 12);
    expect(chiSquareOneDfSurvival(10.828)).toBeCloseTo(0.001, 6);
    expect(chiSquareOneDfSurvival(0)).toBe(1);
  });
});

describe(logSumExp.name, () => {
  it('equals the naive sum where that is representable and stays finite where it is not', () => {
    expect(logSumExp([Math.log(1), Math.log(2), Math.log(3)])).toBeCloseTo(Math.log(6), 14);
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logSumExp([-1000, -1000])).toBeCloseTo(-1000 + Math.LN2, 12);
  });
});
