import { beforeAll, describe, expect, it } from 'vitest';
import { binomial, binomialPmf, stirlingError } from '../../../bench/gate-simulator/binomial';
import { createRng, hashKeys } from '../../../scripts/support/prng';
import { DEFAULT_OPTIONS, runSimulation } from '../../../bench/gate-simulator/run-simulation';
import { type CellSummary, quantile } from '../../../bench/gate-simulator/summarize';

function draws(count: number, draw: () => number): number[] {
  return Array.from({ length: count }, draw);
}

function meanAndVariance(values: readonly number[]): { mean: number; variance: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, variance };
}

/** Pearson χ² of observed draws against Binomial(n, p), pooling cells expected below 5. */
function chiSquare(values: readonly number[], n: number, p: number): { statistic: number; df: number } {
  const observed = new Map<number, number>();
  for (const v of values) observed.set(v, (observed.get(v) ?? 0) + 1);
  let statistic = 0;
  let cells = 0;
  let pooledExpected = 0;
  let pooledObserved = 0;
  for (let k = 0; k <= n; k++) {
    const expected = values.length * binomialPmf(k, n, p);
    if (expected < 5) {
      pooledExpected += expected;
      pooledObserved += observed.get(k) ?? 0;
      continue;
    }
    statistic += ((observed.get(k) ?? 0) - expected) ** 2 / expected;
    cells += 1;
  }
  if (pooledExpected > 0) {
    statistic += (pooledObserved - pooledExpected) ** 2 / pooledExpected;
    cells += 1;
  }
  return { statistic, df: cells - 1 };
}

describe('prng', () => {
  it('repeats a stream for the same keys and separates different keys', () => {
    const a = draws(5, createRng([7, 1, 2]).next);
    expect(draws(5, createRng([7, 1, 2]).next)).toEqual(a);
    expect(draws(5, createRng([7, 2, 1]).next)).not.toEqual(a);
    expect(hashKeys([1, 2])).not.toBe(hashKeys([2, 1]));
    expect(hashKeys([0])).not.toBe(hashKeys([0, 0]));
  });

  it('is uniform on [0, 1)', () => {
    const values = draws(200_000, createRng([42]).next);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const { mean, variance } = meanAndVariance(values);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(variance).toBeCloseTo(1 / 12, 3);
    const deciles = new Array<number>(10).fill(0);
    for (const v of values) deciles[Math.floor(v * 10)]! += 1;
    // χ² with 9 df: 27.9 is its 0.999 quantile.
    expect(deciles.reduce((s, c) => s + (c - 20_000) ** 2 / 20_000, 0)).toBeLessThan(27.9);
  });
});

describe('binomial', () => {
  it('computes the pmf accurately, also where log-factorials would cancel', () => {
    expect(stirlingError(1)).toBeCloseTo(1 - 0.5 * Math.log(2 * Math.PI), 14);
    expect(binomialPmf(3, 10, 0.2)).toBeCloseTo(120 * 0.2 ** 3 * 0.8 ** 7, 15);
    let total = 0;
    for (let k = 0; k <= 60; k++) total += binomialPmf(k, 60, 0.35);
    expect(total).toBeCloseTo(1, 12);
    // n = 500 000, p = 8 %: the mass within ±10 sd is 1.
    let mass = 0;
    for (let k = 38_000; k <= 42_000; k++) mass += binomialPmf(k, 500_000, 0.08);
    expect(mass).toBeCloseTo(1, 10);
    expect(binomialPmf(-1, 5, 0.5)).toBe(0);
    expect(binomialPmf(6, 5, 0.5)).toBe(0);
  });

  it('handles the degenerate cases', () => {
    const rng = createRng([1]);
    expect(binomial(rng, 0, 0.5)).toBe(0);
    expect(binomial(rng, 10, 0)).toBe(0);
    expect(binomial(rng, 10, 1)).toBe(10);
  });

  it.each([
    ['inversion from zero', 2000, 0.001],
    ['modal search', 300, 0.3],
    ['p above one half', 80, 0.9],
    ['a large slice', 250_000, 0.08],
  ])('has the right mean and variance (%s)', (_name, n, p) => {
    const rng = createRng([n, Math.round(p * 1000)]);
    const { mean, variance } = meanAndVariance(draws(40_000, () => binomial(rng, n, p)));
    const sd = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(mean - n * p)).toBeLessThan((5 * sd) / Math.sqrt(40_000));
    expect(variance / (n * p * (1 - p))).toBeGreaterThan(0.95);
    expect(variance / (n * p * (1 - p))).toBeLessThan(1.05);
  });

  it.each([
    [40, 0.7],
    [5000, 0.002],
    [1000, 0.04],
  ])('fits Binomial(%d, %d) by χ²', (n, p) => {
    const rng = createRng([3, n]);
    const { statistic, df } = chiSquare(draws(50_000, () => binomial(rng, n, p)), n, p);
    // Mean df, sd √(2 df): eight sds above is far beyond chance, well within reach of a broken sampler.
    expect(statistic).toBeLessThan(df + 8 * Math.sqrt(2 * df));
  });
});

describe('quantile', () => {
  it('interpolates between order statistics', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.9)).toBe(9);
  });
});

describe('gate simulator (default preset, matched control, fixed seed)', () => {
  const ratios = [1, 1.5, 2, 10];
  let cells: CellSummary[] = [];
  // 80 replicates per cell and a 5-day horizon (good releases finish in about 3.5 days) keep this near 3 s.
  beforeAll(() => {
    cells = runSimulation({ ...DEFAULT_OPTIONS, replicates: 80, seed: 20250106, ratios, horizonHours: 120 });
  });
  const cell = (gate: string, ratio: number) => cells.find((c) => c.gate === gate && c.ratio === ratio)!;

  it('rolls back good releases far less often than the naive threshold gate with the same advancement', () => {
    expect(cell('rampart', 1).rollbackRate).toBeLessThanOrEqual(0.05);
    expect(cell('naive-powered', 1).rollbackRate).toBeGreaterThanOrEqual(0.4);
    expect(cell('rampart', 1).rollbackRate).toBeLessThan(cell('naive-powered', 1).rollbackRate / 5);
  });

  it('always rolls back a crash loop (R = 10)', () => {
    for (const gate of DEFAULT_OPTIONS.gates) expect(cell(gate, 10).rollbackRate).toBe(1);
  });

  it('never rolls back less often when the regression is worse', () => {
    for (const gate of DEFAULT_OPTIONS.gates) {
      const rates = ratios.map((r) => cell(gate, r).rollbackRate);
      for (let i = 1; i < rates.length; i++) expect(rates[i]).toBeGreaterThanOrEqual(rates[i - 1]!);
    }
  });

  it('holds a 2× regression at the first stage, where time-based advancement lets it widen', () => {
    expect(cell('rampart', 2).exposedMedian!).toBeLessThanOrEqual(5000);
    expect(cell('naive', 2).exposedMedian!).toBeGreaterThan(2 * cell('rampart', 2).exposedMedian!);
  });

  it('is reproducible for a seed', () => {
    const options = { ...DEFAULT_OPTIONS, replicates: 5, seed: 9, ratios: [2], gates: ['rampart' as const] };
    expect(runSimulation(options)).toEqual(runSimulation(options));
  });
});
