import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from './time';

/** Sizes of the rollup time buckets, by the name the insights API takes as `step`. */
export const ROLLUP_STEPS = { '5m': 5 * MINUTE_MS, '1h': HOUR_MS } as const;
export type RollupStep = keyof typeof ROLLUP_STEPS;
export const ROLLUP_STEP_NAMES = Object.keys(ROLLUP_STEPS) as RollupStep[];

/**
 * Cohorts of the rollups: the gate's two slices, and `rest` — the release's devices outside both
 * (attribution cohort `none` while the event is attributed to the release).
 */
export const ROLLUP_COHORTS = ['canary', 'control', 'rest'] as const;
export type RollupCohort = (typeof ROLLUP_COHORTS)[number];

/** A series longer than this is refused; a coarser step or a shorter range answers instead. */
export const MAX_INSIGHT_POINTS = 2000;

/** Distinct-device sets kept per bucket; each becomes one exact count. */
export const ROLLUP_DEVICE_SETS = ['active', 'on_release', 'crashed', 'js_error'] as const;
export type RollupDeviceSet = (typeof ROLLUP_DEVICE_SETS)[number];

export const ROLLUP_HISTOGRAMS = ['session_duration', 'install_duration'] as const;
export type RollupHistogram = (typeof ROLLUP_HISTOGRAMS)[number];

/**
 * Lower edges of the duration histogram bins (the last bin is open-ended). Fixed edges make
 * histograms of any buckets, segments or cohorts mergeable by adding bin counts.
 */
export const DURATION_BIN_EDGES_MS = [
  0,
  SECOND_MS,
  2 * SECOND_MS,
  5 * SECOND_MS,
  10 * SECOND_MS,
  30 * SECOND_MS,
  MINUTE_MS,
  2 * MINUTE_MS,
  5 * MINUTE_MS,
  10 * MINUTE_MS,
  30 * MINUTE_MS,
  HOUR_MS,
] as const;

/** Feature names remembered per app; uses of any further name count under `OTHER_FEATURE`. */
export const MAX_FEATURE_NAMES_PER_APP = 50;
export const OTHER_FEATURE = 'other';

/** Index of the histogram bin a duration falls in. */
export function durationBin(durationMs: number): number {
  let bin = 0;
  while (bin + 1 < DURATION_BIN_EDGES_MS.length && durationMs >= DURATION_BIN_EDGES_MS[bin + 1]!) bin++;
  return bin;
}

/** Bounds of a bin: `toMs` null for the open-ended last one. */
export interface DurationRange {
  fromMs: number;
  toMs: number | null;
}

/** The bin holding the q-quantile of a histogram (counts by bin): exact to a bin; null when empty. */
export function histogramQuantile(counts: readonly number[], q: number): DurationRange | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let bin = 0; bin < counts.length; bin++) {
    seen += counts[bin] ?? 0;
    if (seen >= rank) return { fromMs: DURATION_BIN_EDGES_MS[bin]!, toMs: DURATION_BIN_EDGES_MS[bin + 1] ?? null };
  }
  return null;
}

export function bucketStartOf(atMs: number, stepMs: number): number {
  return Math.floor(atMs / stepMs) * stepMs;
}

/** One device event as the rollups see it, already attributed to a release. */
export interface RollupEvent {
  appId: string;
  releaseId: string;
  segment: string;
  cohort: RollupCohort;
  deviceId: string;
  type: string;
  /** The event happened on the release's target bundle. */
  onRelease: boolean;
  occurredAtMs: number;
  details: Record<string, unknown> | null;
}

export interface RollupKey {
  releaseId: string;
  segment: string;
  cohort: RollupCohort;
  stepMs: number;
  bucketStart: number;
}

export interface RollupCounters extends RollupKey {
  installsOk: number;
  installsFailed: number;
  sessions: number;
}

export interface RollupMembership extends RollupKey {
  deviceId: string;
  set: RollupDeviceSet;
}

export interface RollupHistogramCount extends RollupKey {
  histogram: RollupHistogram;
  bin: number;
  count: number;
}

export interface RollupFeatureCount extends RollupKey {
  appId: string;
  feature: string;
  count: number;
}

/** What a batch of events adds to the rollups, folded so that every key occurs once per list. */
export interface RollupBatch {
  counters: RollupCounters[];
  memberships: RollupMembership[];
  histograms: RollupHistogramCount[];
  features: RollupFeatureCount[];
}

export function rollupCohortOf(cohort: 'canary' | 'control' | 'none'): RollupCohort {
  return cohort === 'none' ? 'rest' : cohort;
}

/** A duration a device reported: a whole number of milliseconds within a day, or nothing. */
export function reportedDurationMs(details: Record<string, unknown> | null): number | null {
  const value = details?.durationMs;
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= DAY_MS ? value : null;
}

function reportedFeature(details: Record<string, unknown> | null): string | null {
  const value = details?.feature;
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function deviceSetsOf(event: RollupEvent): RollupDeviceSet[] {
  const sets: RollupDeviceSet[] = ['active'];
  if (event.onRelease) sets.push('on_release');
  if (event.type === 'crash') sets.push('crashed');
  if (event.type === 'js_error') sets.push('js_error');
  return sets;
}

function histogramOf(event: RollupEvent): RollupHistogram | null {
  if (event.type === 'session_end') return 'session_duration';
  if (event.type === 'install_ok' || event.type === 'install_failed') return 'install_duration';
  return null;
}

const keyString = (k: RollupKey) => `${k.releaseId}\u0000${k.segment}\u0000${k.cohort}\u0000${k.stepMs}\u0000${k.bucketStart}`;

/** Values in the order of their ids: the same total order in every process. */
const inIdOrder = <T>(map: Map<string, T>): T[] => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);

function add<T extends { count: number }>(map: Map<string, T>, id: string, fresh: () => T): void {
  const seen = map.get(id);
  if (seen) seen.count++;
  else map.set(id, fresh());
}

/**
 * Folds events into what they add to every bucket they land in (one per step). Lists come sorted
 * by key, so concurrent writers lock rollup rows in the same order and cannot deadlock.
 */
export function foldRollups(events: readonly RollupEvent[]): RollupBatch {
  const counters = new Map<string, RollupCounters>();
  const memberships = new Map<string, RollupMembership>();
  const histograms = new Map<string, RollupHistogramCount>();
  const features = new Map<string, RollupFeatureCount>();
  for (const event of events) {
    for (const stepMs of Object.values(ROLLUP_STEPS)) {
      const key: RollupKey = { releaseId: event.releaseId, segment: event.segment, cohort: event.cohort, stepMs, bucketStart: bucketStartOf(event.occurredAtMs, stepMs) };
      const id = keyString(key);
      let counter = counters.get(id);
      if (!counter) counters.set(id, (counter = { ...key, installsOk: 0, installsFailed: 0, sessions: 0 }));
      if (event.type === 'install_ok') counter.installsOk++;
      if (event.type === 'install_failed') counter.installsFailed++;
      if (event.type === 'session_start') counter.sessions++;
      for (const set of deviceSetsOf(event)) {
        memberships.set(`${id}\u0000${set}\u0000${event.deviceId}`, { ...key, deviceId: event.deviceId, set });
      }
      const histogram = histogramOf(event);
      const duration = reportedDurationMs(event.details);
      if (histogram && duration !== null) {
        const bin = durationBin(duration);
        add(histograms, `${id}\u0000${histogram}\u0000${bin}`, () => ({ ...key, histogram, bin, count: 1 }));
      }
      const feature = event.type === 'feature_used' ? reportedFeature(event.details) : null;
      if (feature !== null) add(features, `${id}\u0000${feature}`, () => ({ ...key, appId: event.appId, feature, count: 1 }));
    }
  }
  return { counters: inIdOrder(counters), memberships: inIdOrder(memberships), histograms: inIdOrder(histograms), features: inIdOrder(features) };
}
