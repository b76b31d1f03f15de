import type { MeanSummary } from '../../domain/experiments/mean-difference-sequence';
import type { ProportionSummary } from '../../domain/experiments/proportion-difference-sequence';
import type { Rng } from '../../scripts/support/prng';
import { binomial } from '../gate-simulator/binomial';
import { logNormal } from './random-variates';

export type MetricKind = 'mean' | 'proportion';

/** The experiment's traffic and the primary metric's baseline; the arms differ only by their lift. */
export interface ExperimentModel {
  /** Mean units (sessions) per arm per hour; the hourly count swings ±50 % over the day. */
  unitsPerArmHour: number;
  /** Session duration: log-normal with this mean (ms) and log-scale σ. */
  meanSessionMs: number;
  sessionSigma: number;
  /** Baseline share of units with the event (sessions that used a feature). */
  baseProportion: number;
}

export type ArmTotals = MeanSummary & ProportionSummary;

export function emptyTotals(arms: number): ArmTotals[] {
  return Array.from({ length: arms }, () => ({ n: 0, sum: 0, sumOfSquares: 0, x: 0 }));
}

/**
 * Adds one hour of traffic: the hour's units are randomized to the arms with equal shares (so the
 * split itself is random, as with hashing), then each unit draws its metric with its arm's lift —
 * a multiplier of the mean session duration, or of the event probability.
 */
export function addHour(rng: Rng, model: ExperimentModel, metric: MetricKind, hour: number, lifts: readonly number[], totals: ArmTotals[]): void {
  const arms = lifts.length;
  let left = Math.round(arms * model.unitsPerArmHour * (1 + 0.5 * Math.cos((2 * Math.PI * (hour - 20)) / 24)));
  for (let arm = 0; arm < arms; arm++) {
    const units = arm === arms - 1 ? left : binomial(rng, left, 1 / (arms - arm));
    left -= units;
    const t = totals[arm]!;
    const lift = lifts[arm]!;
    t.n += units;
    if (metric === 'proportion') {
      t.x += binomial(rng, units, model.baseProportion * lift);
      continue;
    }
    for (let i = 0; i < units; i++) {
      const y = logNormal(rng, model.meanSessionMs * lift, model.sessionSigma);
      t.sum += y;
      t.sumOfSquares += y * y;
    }
  }
}

/** Per-unit variance of the metric in the control arm, as a planner would know it from history. */
export function unitVariance(model: ExperimentModel, metric: MetricKind, lift = 1): number {
  if (metric === 'proportion') {
    const p = model.baseProportion * lift;
    return p * (1 - p);
  }
  const mean = model.meanSessionMs * lift;
  return mean * mean * Math.expm1(model.sessionSigma * model.sessionSigma);
}

/** The control's mean of the metric. */
export function baseMean(model: ExperimentModel, metric: MetricKind): number {
  return metric === 'proportion' ? model.baseProportion : model.meanSessionMs;
}
