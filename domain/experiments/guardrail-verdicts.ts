import { RATIO_GATE_DEFAULTS } from '../gates/gate-defaults';
import type { RatioTestState } from '../gates/gate-types';
import { emptyRatioTestState, foldRatioWindow, mixtureLogE } from '../gates/ratio-test';

/** A guardrail counts units and units with an event; `harmfulWhen` says which way hurts. */
export interface GuardrailMetric {
  name: string;
  /** `more`: crashed sessions, failed updates. `fewer`: sessions that used a feature, updates that succeeded. */
  harmfulWhen: 'more' | 'fewer';
}

/** One window's counts of one arm on one guardrail metric. */
export interface GuardrailCounts {
  units: number;
  events: number;
}

/** Per arm, then per metric name: the counts of one closed window. */
export type GuardrailWindow = Readonly<Record<string, Readonly<Record<string, GuardrailCounts>>>>;

/**
 * Running evidence per treatment arm, then per metric name: the rollout gate's rate-ratio test
 * (domain/gates/ratio-test.ts) with the arm as canary and the experiment's control as control —
 * or, for a metric harmful when its events get fewer, the other way round. Plain JSON.
 */
export type GuardrailState = Record<string, Record<string, RatioTestState>>;

export interface GuardrailMetricVerdict {
  metric: string;
  harmful: boolean;
  /** Mixture e-value of "this arm is worse than the control"; harmful once ≥ threshold on minEvents. */
  eValue: number;
  threshold: number;
  armUnits: number;
  armEvents: number;
  controlUnits: number;
  controlEvents: number;
}

export interface GuardrailVerdict {
  arm: string;
  /** Any of its guardrails is harmful: stop this arm (send its devices back), not the experiment. */
  harmful: boolean;
  metrics: GuardrailMetricVerdict[];
}

export interface GuardrailOptions {
  treatmentArms: readonly string[];
  metrics: readonly GuardrailMetric[];
  /** The experiment's chance of ever stopping a harmless arm; split over arms × metrics. */
  alpha: number;
  /** Events (the harmful kind) an arm must have before it is stopped; the gate's default otherwise. */
  minEvents?: number;
}

/**
 * Folds one window into every treatment arm's guardrail tests. A window where the arm or the
 * control had no units carries no information and is skipped, as in the rollout gate.
 */
export function foldGuardrailWindow(
  state: GuardrailState,
  window: GuardrailWindow,
  control: string,
  options: Pick<GuardrailOptions, 'treatmentArms' | 'metrics'>,
): GuardrailState {
  const next: GuardrailState = {};
  for (const arm of options.treatmentArms) {
    const tests: Record<string, RatioTestState> = { ...state[arm] };
    for (const metric of options.metrics) {
      const armCounts = window[arm]?.[metric.name] ?? { units: 0, events: 0 };
      const controlCounts = window[control]?.[metric.name] ?? { units: 0, events: 0 };
      const [harmed, reference] = metric.harmfulWhen === 'more' ? [armCounts, controlCounts] : [controlCounts, armCounts];
      tests[metric.name] = foldRatioWindow(
        tests[metric.name] ?? emptyRatioTestState(),
        { canaryDevices: harmed.units, canaryEvents: harmed.events, controlDevices: reference.units, controlEvents: reference.events },
        RATIO_GATE_DEFAULTS.r0,
        [],
      );
    }
    next[arm] = tests;
  }
  return next;
}

/**
 * Judges every treatment arm's guardrails with the rollout gate's mixture SPRT (gates.md §3.3):
 * an arm is harmful when a metric's e-value reaches 1/α_each on at least minEvents events, with
 * α_each = α / (arms × metrics). Valid at any check frequency, so it runs at every check.
 */
export function guardrailVerdicts(state: GuardrailState, options: GuardrailOptions): GuardrailVerdict[] {
  const comparisons = Math.max(1, options.treatmentArms.length * options.metrics.length);
  const threshold = comparisons / options.alpha;
  const minEvents = options.minEvents ?? RATIO_GATE_DEFAULTS.minEvents;
  return options.treatmentArms.map((arm) => {
    const metrics = options.metrics.map((metric): GuardrailMetricVerdict => {
      const test = state[arm]?.[metric.name] ?? emptyRatioTestState();
      const logE = mixtureLogE(test);
      // The test's canary is the harmed side: the arm for `more`, the control for `fewer`.
      const armSide = metric.harmfulWhen === 'more';
      const harmfulEvents = test.canaryEvents;
      return {
        metric: metric.name,
        harmful: logE >= Math.log(threshold) && harmfulEvents >= minEvents,
        eValue: Math.min(Math.exp(logE), Number.MAX_VALUE),
        threshold,
        armUnits: armSide ? test.canaryDevices : test.controlDevices,
        armEvents: armSide ? test.canaryEvents : test.controlEvents,
        controlUnits: armSide ? test.controlDevices : test.canaryDevices,
        controlEvents: armSide ? test.controlEvents : test.canaryEvents,
      };
    });
    return { arm, harmful: metrics.some((m) => m.harmful), metrics };
  });
}
