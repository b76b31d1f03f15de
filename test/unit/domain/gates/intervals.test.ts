import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { katzInterval, newcombeInterval, wilsonInterval } from '../../../../domain/gates/intervals';

describe(wilsonInterval.name, () => {
  it('matches Newcombe (1998) table I', () => {
    const [low, high] = wilsonInterval(81, 263)!;
    expect(low).toBeCloseTo(0.2553, 4);
    expect(high).toBeCloseTo(0.3662, 4);
  });

  it('gives about 3/n as the upper bound with zero events (rule of three) and null without trials', () => {
    const [low, high] = wilsonInterval(0, 1000)!;
    expect(low).toBe(0);
    expect(high).toBeGreaterThan(0.0035);
    expect(high).toBeLessThan(0.004);
    expect(wilsonInterval(0, 0)).toBeNull();
  });
});

describe(newcombeInterval.name, () => {
  it('matches the examples of Newcombe (1998), method 10', () => {
    const cases: Array<[number, number, number, number, number, number]> = [
      [56, 70, 48, 80, 0.0524, 0.3339],
      [9, 10, 3, 10, 0.1705, 0.809],
      [5, 56, 0, 29, -0.0381, 0.1926],
    ];
    for (const [x1, n1, x2, n2, low, high] of cases) {
      const interval = newcombeInterval(x1, n1, x2, n2)!;
      expect(interval[0]).toBeCloseTo(low, 4);
      expect(interval[1]).toBeCloseTo(high, 4);
    }
  });

  it('contains the observed difference', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (n1, n2, f1, f2) => {
        const x1 = Math.round(f1 * n1);
        const x2 = Math.round(f2 * n2);
        const [low, high] = newcombeInterval(x1, n1, x2, n2)!;
        const d = x1 / n1 - x2 / n2;
        expect(low).toBeLessThanOrEqual(d + 1e-12);
        expect(high).toBeGreaterThanOrEqual(d - 1e-12);
      }),
    );
  });
});

describe(katzInterval.name, () => {
  it('matches the log-method closed form worked by hand', () => {
    // 56/70 vs 48/80: RR = 4/3, SE(ln RR) = sqrt(1/56 − 1/70 + 1/48 − 1/80) = sqrt(0.0119048) = 0.109109,
    // so the interval is exp(0.287682 ± 1.959964 · 0.109109) = [1.0766, 1.6512].
    const [low, high] = katzInterval(56, 70, 48, 80)!;
    expect(low).toBeCloseTo(1.0766, 4);
    expect(high).toBeCloseTo(1.6512, 4);
  });

  it('is null when either side has no events', () => {
    expect(katzInterval(0, 1000, 3, 1000)).toBeNull();
    expect(katzInterval(3, 1000, 0, 1000)).toBeNull();
  });
});
