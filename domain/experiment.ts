import { BPS_SCALE, bucketOf, isUsableDeviceId } from './bucketing';
import type { GateSpec } from './gates/gate-spec';
import { DAY_MS } from './time';

/*
 * An experiment is a kind of release: inside the release's exposure (its plan ramps it like a
 * rollout, bucketed by the release's salt) devices are split between two or more arms by a second,
 * independent hash with the experiment's own salt. Exposure decides who is in, the arm hash which
 * arm: growing the exposure only adds devices, and never moves one between arms.
 */

/** When a device should apply its arm's bundle; protocols that cannot say it apply it their own way (README). */
export const INSTALL_MODES = ['next_launch', 'immediate'] as const;
export type InstallMode = (typeof INSTALL_MODES)[number];

/**
 * Metrics an arm can be judged on. `session_duration`: mean length of the arm's reported sessions;
 * `crash_free_sessions`: share of the arm's device-windows on its bundle without a crash;
 * `update_success`: share of the arm's installs that succeeded; `adoption`: share of the arm's active
 * device-buckets that ran the arm's bundle (how fast an update is taken up); `feature_use`: uses of
 * the named feature per session of the arm, compared as a Poisson rate ratio.
 */
export const PRIMARY_METRICS = ['session_duration', 'crash_free_sessions', 'update_success', 'adoption', 'feature_use'] as const;
export type PrimaryMetric = (typeof PRIMARY_METRICS)[number];

/** Guardrails judged by the rollout gates (mixture SPRT against the control arm, tripwires) on each check's windows. */
export const GUARDRAILS = ['crash_free_sessions', 'update_success'] as const;
export type Guardrail = (typeof GUARDRAILS)[number];

/**
 * Guardrails judged on the arms' cumulative rollups with the primary metric's confidence sequences:
 * an arm is harmful once it is proven to lower the metric by more than the guardrail's allowed drop.
 * `session_duration`: mean session length; `feature_use`: uses of the named feature per session.
 */
export const METRIC_GUARDRAILS = ['session_duration', 'feature_use'] as const;
export type MetricGuardrailName = (typeof METRIC_GUARDRAILS)[number];

export interface MetricGuardrail {
  metric: MetricGuardrailName;
  /** The feature `feature_use` counts, as devices report it; only on that metric. */
  feature?: string;
  /** The relative drop against the control an arm may cause and go on (0.05: 5 % shorter sessions); 0 stops any proven drop. */
  maxDrop: number;
}

/**
 * The gate specs that watch a guardrail for each treatment arm. Crashes are compared with the control
 * arm only (no absolute ceiling: the control shares the app's crash rate); update failures have only
 * the absolute tripwires, the control arm installing nothing.
 */
export const GUARDRAIL_GATES: Record<Guardrail, readonly GateSpec[]> = {
  crash_free_sessions: [{ kind: 'ratio', metric: 'crash' }],
  update_success: [
    { kind: 'tripwire', metric: 'install_failed' },
    { kind: 'tripwire', metric: 'boot_failed' },
  ],
};

export const EXPERIMENT_LIMITS = {
  minArms: 2,
  maxArms: 6,
  maxArmKeyLength: 32,
  maxWeight: BPS_SCALE,
  maxMetricGuardrails: 5,
  minTimeLimitMs: 1_000,
  maxTimeLimitMs: 90 * DAY_MS,
} as const;

/** Arm keys become rollup cohorts (`arm:<key>`) and URL path segments: short and plain. */
export const ARM_KEY_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

export const EXPERIMENT_DEFAULTS = {
  /** Chance of ever declaring a wrong winner, however often the results are looked at. */
  alpha: 0.05,
  /** No arm is judged before it and the control both have this many units. */
  minSamplePerArm: 100,
  timeLimitMs: 14 * DAY_MS,
  /** The must-catch rate ratio of the guardrails' acceptance test (how harmful an arm must be to be sure to stop it). */
  guardrailRDetect: 2,
} as const;

export interface ArmSpec {
  key: string;
  /** The arm's bundle; null: the release's baseline (the bundle devices run outside the experiment). */
  version: string | null;
  /** Relative share of the experiment's devices (any positive integers). */
  weight: number;
  installMode: InstallMode;
}

export interface ExperimentDefinition {
  arms: ArmSpec[];
  /** The arm every other arm is compared with. */
  control: string;
  /** `feature`: the feature name `feature_use` counts, as devices report it; only on that metric. */
  primary: { metric: PrimaryMetric; direction: 'higher' | 'lower'; feature?: string };
  guardrails: Guardrail[];
  /** Absent in experiments started before metric guardrails existed: none. */
  metricGuardrails?: MetricGuardrail[];
  /** After this long running, the experiment concludes with the winner it has, or ends without one. */
  timeLimitMs: number;
  alpha: number;
  minSamplePerArm: number;
}

/** The cohort name of an arm in the rollups and the gate windows' slices. */
export function armCohort(armKey: string): `arm:${string}` {
  return `arm:${armKey}`;
}

/** The arm key of a cohort or slice named by armCohort; null for any other cohort. */
export function armOfCohort(cohort: string): string | null {
  return cohort.startsWith('arm:') ? cohort.slice(4) : null;
}

/**
 * The arm of a device inside the experiment: the arm whose share of 0…9999 (cumulative weights, in
 * the arms' order) holds the device's bucket under the arm salt. Independent of the exposure bucket
 * (another salt), so a device keeps its arm as exposure grows. Null for an id that cannot identify a device.
 */
export function armIndexOf(armSalt: string, deviceId: string | null | undefined, weights: readonly number[]): number | null {
  if (!isUsableDeviceId(deviceId) || weights.length === 0) return null;
  const total = weights.reduce((a, b) => a + b, 0);
  const position = (bucketOf(armSalt, deviceId) * total) / BPS_SCALE;
  let cumulative = 0;
  for (let i = 0; i < weights.length; i++) {
    cumulative += weights[i]!;
    if (position < cumulative) return i;
  }
  return weights.length - 1;
}

/** The arms' expected shares of the experiment's devices, in the arms' order. */
export function armShares(arms: readonly Pick<ArmSpec, 'weight'>[]): number[] {
  const total = arms.reduce((a, b) => a + b.weight, 0);
  return arms.map((a) => a.weight / total);
}

export interface ExperimentProblem {
  path: string;
  message: string;
}

/**
 * What makes a definition unusable, beyond its shape (checked at the edge): duplicate keys, a
 * control that is not an arm, two arms that would serve exactly the same thing.
 */
export function experimentProblems(definition: ExperimentDefinition): ExperimentProblem[] {
  const problems: ExperimentProblem[] = [];
  const keys = definition.arms.map((a) => a.key);
  keys.forEach((key, i) => {
    if (keys.indexOf(key) !== i) problems.push({ path: `arms.${i}.key`, message: `arm ${key} is named twice; give every arm its own key` });
  });
  if (!keys.includes(definition.control)) {
    problems.push({ path: 'control', message: `control ${definition.control} is not one of the arms (${keys.join(', ')})` });
  }
  const served = definition.arms.map((a) => `${a.version ?? '(baseline)'}|${a.installMode}`);
  served.forEach((s, i) => {
    const first = served.indexOf(s);
    if (first !== i) {
      problems.push({ path: `arms.${i}`, message: `arms ${keys[first]} and ${keys[i]} serve the same bundle with the same install mode; they cannot differ` });
    }
  });
  return problems;
}

/** Every feature the experiment counts uses of (primary metric and guardrails), each once. */
export function experimentFeatures(definition: Pick<ExperimentDefinition, 'primary' | 'metricGuardrails'>): string[] {
  const named = [definition.primary.feature, ...(definition.metricGuardrails ?? []).map((g) => g.feature)];
  return [...new Set(named.filter((f): f is string => f !== undefined))];
}

/** A metric guardrail's name in messages and tables: `session_duration`, `feature_use of checkout`. */
export function metricGuardrailLabel(guardrail: Pick<MetricGuardrail, 'metric' | 'feature'>): string {
  return guardrail.feature === undefined ? guardrail.metric : `${guardrail.metric} of ${guardrail.feature}`;
}

/** The gate specs of the experiment's guardrails, each gate once. */
export function guardrailGates(guardrails: readonly Guardrail[]): GateSpec[] {
  return [...new Set(guardrails)].flatMap((g) => [...GUARDRAIL_GATES[g]]);
}
