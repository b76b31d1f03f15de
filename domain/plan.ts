import { BPS_SCALE } from './bucketing';
import { DEFAULT_GATE_SETTINGS, type GateSettings, type GateSpec } from './gates/gate-spec';
import { BETA_SEGMENT, type SegmentSummary } from './segment';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './time';

export const PLAN_LIMITS = {
  maxStages: 50,
  minCheckIntervalMs: 100,
  maxCheckIntervalMs: DAY_MS,
  maxSoakMs: 60 * DAY_MS,
  minTimeScale: 0.00001,
  maxTimeScale: 100,
} as const;

export const DEFAULT_CHECK_INTERVAL_MS = 15 * MINUTE_MS;
export const DEFAULT_MAX_SOAK_MS = 48 * HOUR_MS;

export interface PlanStage {
  name: string;
  segments: string[];
  exposureBps: number;
  minSoakMs: number;
  maxSoakMs: number;
  checkIntervalMs: number;
  /** Omitted: the default gate set; empty: no gates. */
  gates?: GateSpec[];
}

export interface Plan {
  stages: PlanStage[];
  gateSettings: GateSettings;
}

/** A plan as a release engineer writes it: segments and most durations may be left out. */
export interface PlanStageInput {
  name?: string;
  /** Omitted: every segment of the app. */
  segments?: string[];
  exposureBps: number;
  minSoakMs: number;
  maxSoakMs?: number;
  checkIntervalMs?: number;
  gates?: GateSpec[];
}

export interface PlanInput {
  stages: PlanStageInput[];
  gateSettings?: Partial<GateSettings>;
}

export interface PlanProblem {
  path: string;
  message: string;
}

/** The plan as the caller wrote it and the scale applied, so a refused duration quotes their own number. */
export interface PlanAsSent {
  written: PlanInput;
  timeScale: number;
}

export type PlanResult = { ok: true; plan: Plan } | { ok: false; problems: PlanProblem[] };

export const PLAN_PRESETS = ['default', 'apple-phased'] as const;
export type PlanPreset = (typeof PLAN_PRESETS)[number];

export function isPlanPreset(name: string): name is PlanPreset {
  return (PLAN_PRESETS as readonly string[]).includes(name);
}

const pct = (percent: number) => Math.round(percent * 100);

/**
 * The house plan: beta at 100 %, then 1 → 5 → 20 → 50 → 95 → 100 % for the general segments, and
 * segments with maintenance windows last (the workflow waits for their window to open). The last
 * day's bake runs at 95 %: at 100 % no control cohort is left, and late-onset defects would only
 * meet the absolute tripwires (the simulator catches 79 % instead of 47 % of them at R = 2).
 */
function defaultPreset(segments: SegmentSummary[]): PlanInput {
  const beta = segments.filter((s) => s.key === BETA_SEGMENT).map((s) => s.key);
  const windowed = segments.filter((s) => s.key !== BETA_SEGMENT && s.maintenanceWindows.length > 0).map((s) => s.key);
  const general = segments.filter((s) => s.key !== BETA_SEGMENT && s.maintenanceWindows.length === 0).map((s) => s.key);
  const stages: PlanStageInput[] = [];
  if (beta.length > 0) stages.push({ name: 'beta', segments: beta, exposureBps: BPS_SCALE, minSoakMs: 4 * HOUR_MS });
  const ramp: Array<[number, number]> = [
    [1, 4 * HOUR_MS],
    [5, 4 * HOUR_MS],
    [20, 8 * HOUR_MS],
    [50, 8 * HOUR_MS],
    [95, 24 * HOUR_MS],
    [100, 0],
  ];
  if (general.length > 0) {
    for (const [percent, soak] of ramp) {
      stages.push({ name: `${percent}%`, segments: general, exposureBps: pct(percent), minSoakMs: soak });
    }
  }
  if (windowed.length > 0) {
    stages.push({ name: 'maintenance-window', segments: windowed, exposureBps: BPS_SCALE, minSoakMs: 24 * HOUR_MS });
  }
  return { stages };
}

/** Apple's phased release for automatic updates: 1, 2, 5, 10, 20, 50, 100 %, a day each. */
function applePhasedPreset(segments: SegmentSummary[]): PlanInput {
  const all = segments.map((s) => s.key);
  return {
    stages: [1, 2, 5, 10, 20, 50, 100].map((percent) => ({
      name: `${percent}%`,
      segments: all,
      exposureBps: pct(percent),
      minSoakMs: DAY_MS,
    })),
  };
}

export function presetPlan(preset: PlanPreset, segments: SegmentSummary[]): PlanInput {
  switch (preset) {
    case 'default':
      return defaultPreset(segments);
    case 'apple-phased':
      return applePhasedPreset(segments);
  }
}

/**
 * Turns a preset name or a written plan into a complete, validated plan for an app's segments.
 * `timeScale` multiplies every duration so the same plan runs in seconds in tests.
 */
export function resolvePlan(input: PlanInput | string, segments: SegmentSummary[], timeScale = 1): PlanResult {
  if (!(timeScale >= PLAN_LIMITS.minTimeScale && timeScale <= PLAN_LIMITS.maxTimeScale)) {
    return fail('timeScale', `must be between ${PLAN_LIMITS.minTimeScale} and ${PLAN_LIMITS.maxTimeScale}`);
  }
  let written: PlanInput;
  if (typeof input === 'string') {
    if (!isPlanPreset(input)) return fail('plan', `unknown preset "${input}"; use one of ${PLAN_PRESETS.join(', ')} or a plan object`);
    written = presetPlan(input, segments);
  } else {
    written = input;
  }
  const scale = (ms: number) => Math.round(ms * timeScale);
  const allSegments = segments.map((s) => s.key);
  const stages = written.stages.map((stage, index): PlanStage => {
    const minSoakMs = scale(stage.minSoakMs);
    const checkIntervalMs =
      stage.checkIntervalMs !== undefined
        ? scale(stage.checkIntervalMs)
        : Math.max(PLAN_LIMITS.minCheckIntervalMs, Math.min(scale(DEFAULT_CHECK_INTERVAL_MS), minSoakMs || Infinity));
    // gates.md §4.7: inconclusive after 4 × the minimum soak or 48 h, whichever is longer — a 1 %
    // stage with an equal-size control needs about 30 h of evidence for a good release.
    const maxSoakMs = stage.maxSoakMs !== undefined ? scale(stage.maxSoakMs) : Math.max(4 * minSoakMs, scale(DEFAULT_MAX_SOAK_MS), 4 * checkIntervalMs);
    const resolved: PlanStage = {
      name: stage.name ?? `stage ${index + 1}`,
      segments: stage.segments ?? allSegments,
      exposureBps: stage.exposureBps,
      minSoakMs,
      maxSoakMs,
      checkIntervalMs,
    };
    if (stage.gates !== undefined) resolved.gates = stage.gates;
    return resolved;
  });
  const settings = { ...DEFAULT_GATE_SETTINGS, ...written.gateSettings };
  const gateSettings: GateSettings = { ...settings, reportingLagMs: scale(settings.reportingLagMs) };
  const plan: Plan = { stages, gateSettings };
  const problems = validatePlan(plan, allSegments, { written, timeScale });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, plan };
}

/** Checks a resolved (scaled) plan; with `sent`, duration problems also quote what was sent and the scaling. */
export function validatePlan(plan: Plan, knownSegments: string[], sent?: PlanAsSent): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  if (plan.stages.length === 0) add('stages', 'a plan needs at least one stage');
  if (plan.stages.length > PLAN_LIMITS.maxStages) add('stages', `at most ${PLAN_LIMITS.maxStages} stages`);

  const known = new Set(knownSegments);
  const reached = new Map<string, number>();
  plan.stages.forEach((stage, i) => {
    const at = `stages[${i}]`;
    if (stage.segments.length === 0) add(`${at}.segments`, 'a stage must expose at least one segment');
    const seen = new Set<string>();
    for (const segment of stage.segments) {
      if (!known.has(segment)) add(`${at}.segments`, `unknown segment "${segment}"; the app has ${[...known].join(', ')}`);
      if (seen.has(segment)) add(`${at}.segments`, `segment "${segment}" is listed twice`);
      seen.add(segment);
      const before = reached.get(segment) ?? 0;
      if (stage.exposureBps < before) {
        add(`${at}.exposureBps`, `exposure of "${segment}" would drop from ${before} to ${stage.exposureBps} bps; exposure only grows within a release`);
      }
      reached.set(segment, Math.max(before, stage.exposureBps));
    }
    if (!Number.isInteger(stage.exposureBps) || stage.exposureBps < 1 || stage.exposureBps > BPS_SCALE) {
      add(`${at}.exposureBps`, `must be an integer from 1 to ${BPS_SCALE} (basis points, 1 = 0.01 %)`);
    }
    const written = sent?.written.stages[i];
    const duration = (field: 'minSoakMs' | 'maxSoakMs' | 'checkIntervalMs', min: number, max: number) =>
      checkDuration(add, { path: `${at}.${field}`, value: stage[field], min, max }, sent && { sent: written?.[field], timeScale: sent.timeScale });
    duration('minSoakMs', 0, PLAN_LIMITS.maxSoakMs);
    duration('maxSoakMs', stage.minSoakMs, PLAN_LIMITS.maxSoakMs);
    duration('checkIntervalMs', PLAN_LIMITS.minCheckIntervalMs, PLAN_LIMITS.maxCheckIntervalMs);
  });

  const betaStage = plan.stages.findIndex((s) => s.segments.includes(BETA_SEGMENT));
  if (betaStage > 0) add(`stages[${betaStage}].segments`, `the "${BETA_SEGMENT}" segment must be exposed in the first stage`);
  if (plan.stages.length > 0) {
    for (const segment of known) {
      if ((reached.get(segment) ?? 0) < BPS_SCALE) {
        add('stages', `segment "${segment}" never reaches ${BPS_SCALE} bps; a plan must end in full rollout for every segment`);
      }
    }
  }

  const { alpha, reportingLagMs } = plan.gateSettings;
  if (!(alpha > 0 && alpha < 0.5)) add('gateSettings.alpha', 'must be between 0 and 0.5');
  const lag = { path: 'gateSettings.reportingLagMs', value: reportingLagMs, min: 0, max: DAY_MS };
  checkDuration(add, lag, sent && { sent: sent.written.gateSettings?.reportingLagMs, timeScale: sent.timeScale });
  return problems;
}

/**
 * The counting-window size of a release: fine enough that every gate evaluation (one per check
 * interval) sees only complete windows, coarse enough to keep device-window rows few.
 */
export function countingWindowMs(plan: Plan): number {
  const shortest = Math.min(...plan.stages.map((s) => s.checkIntervalMs));
  return Math.min(60_000, Math.max(100, Math.floor(shortest / 2)));
}

/** The counting window a moment falls in: ingestion files events under it, the gate reads whole ones. */
export function windowStartOf(at: number, windowMs: number): number {
  return Math.floor(at / windowMs) * windowMs;
}

interface DurationCheck {
  path: string;
  /** After timeScale. */
  value: number;
  min: number;
  max: number;
}

/** A duration as sent: undefined when the plan left it to its default. */
interface DurationAsSent {
  sent: number | undefined;
  timeScale: number;
}

function checkDuration(add: (path: string, message: string) => void, check: DurationCheck, asSent: DurationAsSent | undefined): void {
  const { path, value, min, max } = check;
  if (Number.isFinite(value) && value >= min && value <= max) return;
  add(path, `must be between ${min} and ${max} ms${asSent ? describeAsSent(check, asSent) : ` (got ${value})`}`);
}

/**
 * The limits hold after timeScale, but the caller wrote numbers before it: quote theirs, the
 * product, and the number to send instead.
 */
function describeAsSent({ value, min, max }: DurationCheck, { sent, timeScale }: DurationAsSent): string {
  if (sent === undefined) return ` (not sent; its default came to ${value} ms${timeScale === 1 ? '' : ` after timeScale ${timeScale}`})`;
  if (timeScale === 1) return ` (got ${sent})`;
  const unscaled = (ms: number) => Number((ms / timeScale).toPrecision(12));
  const instead = value < min ? `send at least ${Math.ceil(unscaled(min))}` : `send at most ${Math.floor(unscaled(max))}`;
  return ` after timeScale (sent ${sent} × timeScale ${timeScale} = ${value} ms); with timeScale ${timeScale}, ${instead}`;
}

function fail(path: string, message: string): PlanResult {
  return { ok: false, problems: [{ path, message }] };
}
