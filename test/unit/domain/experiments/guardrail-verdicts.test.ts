import { describe, expect, it } from 'vitest';
import {
  type GuardrailMetric,
  type GuardrailState,
  foldGuardrailWindow,
  guardrailVerdicts,
} from '../../../../domain/experiments/guardrail-verdicts';
import { binomial } from '../../../../bench/gate-simulator/binomial';
import { createRng } from '../../../../scripts/support/prng';

const CRASHES: GuardrailMetric = { name: 'crashed_sessions', harmfulWhen: 'more' };
const FEATURE: GuardrailMetric = { name: 'used_search', harmfulWhen: 'fewer' };
const options = { treatmentArms: ['B', 'C'], metrics: [CRASHES, FEATURE] } as const;

/** Hourly windows of 2000 sessions per arm; each arm's crash and feature-use probabilities. */
function run(seed: number, hours: number, rates: Record<string, { crash: number; feature: number }>): GuardrailState {
  const rng = createRng([seed]);
  let state: GuardrailState = {};
  for (let h = 0; h < hours; h++) {
    const window = Object.fromEntries(
      Object.entries(rates).map(([arm, p]) => [
        arm,
        { crashed_sessions: { units: 2000, events: binomial(rng, 2000, p.crash) }, used_search: { units: 2000, events: binomial(rng, 2000, p.feature) } },
      ]),
    );
    state = foldGuardrailWindow(state, window, 'A', options);
  }
  return state;
}

describe(guardrailVerdicts.name, () => {
  it('stops the arm that crashes three times as often and only that one', () => {
    const state = run(1, 24, { A: { crash: 0.002, feature: 0.3 }, B: { crash: 0.002, feature: 0.3 }, C: { crash: 0.006, feature: 0.3 } });
    const verdicts = guardrailVerdicts(state, { ...options, alpha: 0.01 });
    expect(verdicts.map((v) => [v.arm, v.harmful])).toEqual([
      ['B', false],
      ['C', true],
    ]);
    const crash = verdicts[1]!.metrics[0]!;
    expect(crash).toMatchObject({ metric: 'crashed_sessions', harmful: true, armUnits: 48_000, controlUnits: 48_000 });
    // Bonferroni over 2 arms × 2 metrics.
    expect(crash.threshold).toBeCloseTo(4 / 0.01, 9);
    expect(crash.eValue).toBeGreaterThanOrEqual(crash.threshold);
    expect(crash.armEvents).toBeGreaterThan(2 * crash.controlEvents);
  });

  it('judges a metric harmful when its events get fewer, with the arm’s counts reported as the arm’s', () => {
    const state = run(2, 24, { A: { crash: 0.002, feature: 0.3 }, B: { crash: 0.002, feature: 0.2 }, C: { crash: 0.002, feature: 0.3 } });
    const [b, c] = guardrailVerdicts(state, { ...options, alpha: 0.01 });
    expect(b!.harmful).toBe(true);
    expect(b!.metrics[1]).toMatchObject({ metric: 'used_search', harmful: true, armUnits: 48_000 });
    expect(b!.metrics[1]!.armEvents).toBeLessThan(b!.metrics[1]!.controlEvents);
    expect(c!.harmful).toBe(false);
  });

  it('waits for minEvents before stopping even on overwhelming evidence', () => {
    const state = foldGuardrailWindow({}, { A: { crashed_sessions: { units: 100_000, events: 0 } }, B: { crashed_sessions: { units: 100, events: 2 } } }, 'A', {
      treatmentArms: ['B'],
      metrics: [CRASHES],
    });
    const [verdict] = guardrailVerdicts(state, { treatmentArms: ['B'], metrics: [CRASHES], alpha: 0.05 });
    expect(verdict!.metrics[0]!.eValue).toBeGreaterThan(20);
    expect(verdict!.harmful).toBe(false);
    expect(guardrailVerdicts(state, { treatmentArms: ['B'], metrics: [CRASHES], alpha: 0.05, minEvents: 2 })[0]!.harmful).toBe(true);
  });

  it('counts nothing from a window where the arm or the control had no units, and reports untouched arms as harmless', () => {
    const state = foldGuardrailWindow({}, { B: { crashed_sessions: { units: 500, events: 40 } } }, 'A', options);
    const verdicts = guardrailVerdicts(state, { ...options, alpha: 0.05 });
    expect(verdicts.every((v) => !v.harmful)).toBe(true);
    expect(verdicts[0]!.metrics[0]).toMatchObject({ eValue: 1, armUnits: 0, controlUnits: 0 });
  });

  it('falsely stops a harmless arm in well under α of experiments checked every hour', () => {
    let stopped = 0;
    for (let seed = 0; seed < 200; seed++) {
      const state = run(100 + seed, 48, { A: { crash: 0.002, feature: 0.3 }, B: { crash: 0.002, feature: 0.3 }, C: { crash: 0.002, feature: 0.3 } });
      if (guardrailVerdicts(state, { ...options, alpha: 0.05 }).some((v) => v.harmful)) stopped++;
    }
    // 5 % of 200 is 10; the binomial 99.9 % upper point is 21.
    expect(stopped).toBeLessThanOrEqual(21);
  });
});
