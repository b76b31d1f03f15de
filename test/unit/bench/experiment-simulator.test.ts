import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { erfc } from '../../../domain/gates/erfc';
import { addHour, emptyTotals } from '../../../bench/experiment-simulator/experiment-model';
import { normalQuantile } from '../../../bench/experiment-simulator/normal-quantile';
import {
  DEFAULT_EXPERIMENT_OPTIONS,
  falseWinnerCell,
  plannedSamplePerArm,
  runExperimentSimulation,
} from '../../../bench/experiment-simulator/run-experiment-simulation';
import { welchSignificant } from '../../../bench/experiment-simulator/welch-test';
import { createRng } from '../../../scripts/support/prng';

describe(normalQuantile.name, () => {
  it('matches reference quantiles and inverts Φ', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.8)).toBeCloseTo(0.8416212335729143, 12);
    expect(normalQuantile(1e-6)).toBeCloseTo(-4.753424308822899, 9);
    fc.assert(
      fc.property(fc.double({ min: 1e-10, max: 1 - 1e-10, noNaN: true }), (p) => {
        expect(0.5 * erfc(-normalQuantile(p) / Math.SQRT2) / p).toBeCloseTo(1, 8);
      }),
    );
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});

describe(welchSignificant.name, () => {
  it('uses the t quantile of the Welch–Satterthwaite df, not the normal one', () => {
    // Two arms of 6 units with variance 3 each: V = 1, df = 10, t(0.975, 10) = 2.228.
    const arm = (mean: number) => ({ n: 6, sum: 6 * mean, sumOfSquares: 3 * 5 + 6 * mean * mean });
    const z = normalQuantile(0.975);
    expect(welchSignificant(arm(2.25), arm(0), z)).toBe(true);
    expect(welchSignificant(arm(2.2), arm(0), z)).toBe(false);
    expect(welchSignificant(arm(-2.25), arm(0), z)).toBe(true);
    expect(welchSignificant({ n: 1, sum: 5, sumOfSquares: 25 }, arm(0), z)).toBe(false);
  });
});

describe('experiment model', () => {
  it('splits each hour evenly at random and draws the metric with each arm’s lift', () => {
    const model = DEFAULT_EXPERIMENT_OPTIONS.model;
    const rng = createRng([9]);
    const means = emptyTotals(3);
    const shares = emptyTotals(3);
    for (let hour = 0; hour < 48; hour++) {
      addHour(rng, model, 'mean', hour, [1, 1.1, 1], means);
      addHour(rng, model, 'proportion', hour, [1, 1, 1.5], shares);
    }
    const total = means.reduce((s, t) => s + t.n, 0);
    expect(total).toBeCloseTo(3 * 48 * model.unitsPerArmHour, -2);
    for (const t of means) expect(t.n / total).toBeCloseTo(1 / 3, 1);
    expect(means[1]!.sum / means[1]!.n / (means[0]!.sum / means[0]!.n)).toBeCloseTo(1.1, 1);
    expect(shares[0]!.x / shares[0]!.n).toBeCloseTo(model.baseProportion, 1);
    expect(shares[2]!.x / shares[2]!.n).toBeCloseTo(1.5 * model.baseProportion, 1);
  });

  it('plans the fixed-horizon sample with the textbook formula', () => {
    // (1.96 + 0.8416)²·(σ² + (1.05σ)²)/(0.05μ)², σ² = μ²(e − 1): 11 343 per arm.
    expect(plannedSamplePerArm(DEFAULT_EXPERIMENT_OPTIONS, 'mean', 0.05, 1.05)).toBe(11_343);
    // 0.2 vs 0.21: (2.8016)²·(0.16 + 0.1659)/0.01² = 25 580.
    expect(plannedSamplePerArm(DEFAULT_EXPERIMENT_OPTIONS, 'proportion', 0.05, 1.05)).toBe(25_580);
  });
});

describe(runExperimentSimulation.name, () => {
  it('is deterministic for a seed', () => {
    const options = { ...DEFAULT_EXPERIMENT_OPTIONS, replicates: 3, horizonDays: 1, maxDays: 2, model: { ...DEFAULT_EXPERIMENT_OPTIONS.model, unitsPerArmHour: 20 } };
    const first = runExperimentSimulation(options, () => undefined);
    expect(runExperimentSimulation(options, () => undefined)).toEqual(first);
    expect(first.falseWinners.map((c) => [c.metric, c.arms])).toEqual([
      ['mean', 2],
      ['mean', 3],
      ['proportion', 2],
      ['proportion', 3],
    ]);
    expect(runExperimentSimulation({ ...options, seed: 2 }, () => undefined)).not.toEqual(first);
  });

  it('shows peeking inflating the t-test’s false winners far above the confidence sequence’s', () => {
    const cell = falseWinnerCell({ ...DEFAULT_EXPERIMENT_OPTIONS, replicates: 100, horizonDays: 7 }, 'proportion', 2, 1);
    expect(cell.decisions['t-test-hourly']).toBeGreaterThan(20);
    expect(cell.decisions['sequence-hourly']).toBeLessThanOrEqual(10);
    expect(cell.decisions['t-test-daily']).toBeLessThanOrEqual(cell.decisions['t-test-hourly']);
    expect(cell.guardrailStops).toBeNull();
  });

  it('counts how often a session_duration guardrail would stop an arm that changes nothing, looked at every hour', () => {
    const cell = falseWinnerCell({ ...DEFAULT_EXPERIMENT_OPTIONS, replicates: 100, horizonDays: 7 }, 'mean', 2, 1);
    expect(cell.guardrailStops).not.toBeNull();
    expect(cell.guardrailStops!).toBeLessThanOrEqual(10);
  });
});
