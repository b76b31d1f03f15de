import { wilsonInterval, type Interval } from './gates/intervals';
import { DURATION_BIN_EDGES_MS, histogramQuantile, OTHER_FEATURE, ROLLUP_HISTOGRAMS, type DurationRange, type RollupHistogram } from './insight';

/** What rollups hold for one bucket (or a range) of one segment and cohort. */
export interface RollupFigures {
  activeDevices: number;
  onReleaseDevices: number;
  crashedDevices: number;
  jsErrorDevices: number;
  installsOk: number;
  installsFailed: number;
  sessions: number;
  /** Counts by bin of `DURATION_BIN_EDGES_MS`. */
  histograms: Record<RollupHistogram, number[]>;
  /**
   * Uses by feature, at the position of its name in the answer's `FeatureNames` (shared by every
   * bucket of an answer, so adding buckets adds arrays; a missing element is 0).
   */
  featureUses: number[];
}

/**
 * Names of the positions of `RollupFigures.featureUses`. A name may appear at more than one
 * position (`other` may: the uses of every name the app does not keep); its uses are their sum. A
 * position beyond the names (one given after they were read) counts as `other`.
 */
export type FeatureNames = readonly string[];

/** What a bucket of a series shows. */
export interface InsightFigures {
  activeDevices: number;
  devicesOnRelease: number;
  /** Share of active devices that ran the release's bundle; null without active devices. */
  adoption: number | null;
  installs: { ok: number; failed: number };
  /** ok ÷ (ok + failed) with its 95 % Wilson interval; null without installs. */
  updateSuccess: { rate: number; interval: Interval } | null;
  sessions: number;
  /** Bins holding the median and the 90th percentile: exact to a bin. */
  sessionDurationMs: { p50: DurationRange | null; p90: DurationRange | null };
  installDurationMs: { p50: DurationRange | null; p90: DurationRange | null };
  crashFreeRate: number | null;
  crashDeviceRate: number | null;
  jsErrorDeviceRate: number | null;
  /** Uses of each feature the request named (`feature=`); absent when it named none. */
  featureUses?: Record<string, number>;
}

export const TOP_FEATURES = 10;

export function emptyFigures(): RollupFigures {
  const bins = () => new Array<number>(DURATION_BIN_EDGES_MS.length).fill(0);
  return {
    activeDevices: 0,
    onReleaseDevices: 0,
    crashedDevices: 0,
    jsErrorDevices: 0,
    installsOk: 0,
    installsFailed: 0,
    sessions: 0,
    histograms: { session_duration: bins(), install_duration: bins() },
    featureUses: [],
  };
}

const addCounts = (into: number[], from: readonly number[]) => {
  for (let i = 0; i < from.length; i++) into[i] = (into[i] ?? 0) + from[i]!;
};

/** Adds what is additive (counts, histograms, feature uses) of `from` into `into`; distinct counts are not. */
export function addAdditive(into: RollupFigures, from: RollupFigures): void {
  into.installsOk += from.installsOk;
  into.installsFailed += from.installsFailed;
  into.sessions += from.sessions;
  for (const name of ROLLUP_HISTOGRAMS) addCounts(into.histograms[name], from.histograms[name]);
  addCounts(into.featureUses, from.featureUses);
}

const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);

const quantiles = (counts: readonly number[]) => ({ p50: histogramQuantile(counts, 0.5), p90: histogramQuantile(counts, 0.9) });

/** Uses by feature name, positions of the same name added. */
function usesByFeature(f: RollupFigures, names: FeatureNames): Map<string, number> {
  const uses = new Map<string, number>();
  f.featureUses.forEach((count, at) => {
    const name = names[at] ?? OTHER_FEATURE;
    if (count > 0) uses.set(name, (uses.get(name) ?? 0) + count);
  });
  return uses;
}

/**
 * Uses of each of `wanted` (every one listed, 0 when unused). `positions` are where each name
 * sits in the answer's `FeatureNames` (featurePositions): computed once per answer, not per bucket.
 */
export function featureUsesOf(f: RollupFigures, wanted: ReadonlyMap<string, readonly number[]>): Record<string, number> {
  const uses: Record<string, number> = {};
  for (const [name, positions] of wanted) uses[name] = positions.reduce((sum, at) => sum + (f.featureUses[at] ?? 0), 0);
  return uses;
}

/** Where each of `wanted` sits in `names`: none for a name the app does not keep (yet). */
export function featurePositions(names: FeatureNames, wanted: readonly string[]): Map<string, number[]> {
  return new Map(wanted.map((name) => [name, names.flatMap((n, at) => (n === name ? [at] : []))]));
}

export function insightFigures(f: RollupFigures, features?: ReadonlyMap<string, readonly number[]>): InsightFigures {
  const installs = f.installsOk + f.installsFailed;
  const interval = wilsonInterval(f.installsOk, installs);
  const crashShare = share(f.crashedDevices, f.activeDevices);
  const figures: InsightFigures = {
    activeDevices: f.activeDevices,
    devicesOnRelease: f.onReleaseDevices,
    adoption: share(f.onReleaseDevices, f.activeDevices),
    installs: { ok: f.installsOk, failed: f.installsFailed },
    updateSuccess: interval ? { rate: f.installsOk / installs, interval } : null,
    sessions: f.sessions,
    sessionDurationMs: quantiles(f.histograms.session_duration),
    installDurationMs: quantiles(f.histograms.install_duration),
    crashFreeRate: crashShare === null ? null : 1 - crashShare,
    crashDeviceRate: crashShare,
    jsErrorDeviceRate: share(f.jsErrorDevices, f.activeDevices),
  };
  if (features !== undefined && features.size > 0) figures.featureUses = featureUsesOf(f, features);
  return figures;
}

/** The `TOP_FEATURES` most used feature names, most used first (ties by name). */
export function topFeatures(f: RollupFigures, names: FeatureNames): Array<{ feature: string; uses: number }> {
  return [...usesByFeature(f, names)]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, TOP_FEATURES)
    .map(([feature, uses]) => ({ feature, uses }));
}

/** Figures that need distinct devices over a whole range, not per bucket. */
const DISTINCT_FIGURES = ['activeDevices', 'devicesOnRelease', 'adoption', 'crashFreeRate', 'crashDeviceRate', 'jsErrorDeviceRate'] as const;
type DistinctFigure = (typeof DISTINCT_FIGURES)[number];

/**
 * Figures over a range, with its most used features; the distinct-device ones are null once the
 * range reaches where memberships were purged.
 */
export type InsightTotals = Omit<InsightFigures, DistinctFigure> & { [K in DistinctFigure]: InsightFigures[K] | null } & {
  topFeatures: Array<{ feature: string; uses: number }>;
};

export function insightTotals(
  f: RollupFigures,
  distinctKnown: boolean,
  names: FeatureNames = [],
  features?: ReadonlyMap<string, readonly number[]>,
): InsightTotals {
  const figures: InsightTotals = { ...insightFigures(f, features), topFeatures: topFeatures(f, names) };
  if (!distinctKnown) for (const name of DISTINCT_FIGURES) figures[name] = null;
  return figures;
}

/** Adoption levels whose time-to-reach the insights report. */
export const ADOPTION_LEVELS = [0.5, 0.9, 0.95] as const;
export type AdoptionLevel = (typeof ADOPTION_LEVELS)[number];

/** One bucket of a segment over all its cohorts: distinct devices active, and those on the release's bundle. */
export interface AdoptionBucket {
  /** Bucket start, epoch ms. */
  start: number;
  activeDevices: number;
  devicesOnRelease: number;
}

export interface AdoptionPoint {
  start: string;
  activeDevices: number;
  devicesOnRelease: number;
  /** Share of the bucket's active devices on the release's bundle; null without active devices. */
  adoption: number | null;
}

/** When a level was first reached: the first bucket whose adoption is at least the level. */
export interface AdoptionMilestone {
  level: AdoptionLevel;
  /** Start of that bucket. */
  bucketStart: string;
  /** From the release's start to the end of that bucket (by then the level was reached); at least 0. */
  afterMs: number;
}

export interface SegmentAdoption {
  segment: string;
  /** The adoption curve within the requested range, oldest bucket first; buckets without events are left out. */
  curve: AdoptionPoint[];
  /** Time to 50, 90 and 95 % adoption since the release started; null when not reached (yet). */
  timeToAdoption: Record<'50' | '90' | '95', AdoptionMilestone | null>;
  /**
   * For a rolled-back or aborted release: devices on its (withdrawn) bundle in the segment's latest
   * bucket with events; null for any other status.
   */
  devicesOnWithdrawnBundle: number | null;
}

const byStart = (buckets: readonly AdoptionBucket[]) => [...buckets].sort((a, b) => a.start - b.start);

export function adoptionCurve(buckets: readonly AdoptionBucket[]): AdoptionPoint[] {
  return byStart(buckets).map((b) => ({
    start: new Date(b.start).toISOString(),
    activeDevices: b.activeDevices,
    devicesOnRelease: b.devicesOnRelease,
    adoption: share(b.devicesOnRelease, b.activeDevices),
  }));
}

/**
 * The first bucket (at or after the release's start's bucket) whose adoption reaches `level`, and
 * the time from the release's start to that bucket's end; null when no bucket reaches it.
 */
export function timeToAdoption(buckets: readonly AdoptionBucket[], level: AdoptionLevel, startedAtMs: number, stepMs: number): AdoptionMilestone | null {
  const firstBucket = Math.floor(startedAtMs / stepMs) * stepMs;
  const reached = byStart(buckets).find((b) => b.start >= firstBucket && b.activeDevices > 0 && b.devicesOnRelease / b.activeDevices >= level);
  if (!reached) return null;
  return { level, bucketStart: new Date(reached.start).toISOString(), afterMs: Math.max(0, reached.start + stepMs - startedAtMs) };
}

/** Devices on a withdrawn bundle: those on it in the latest bucket with events. */
export function devicesOnWithdrawnBundle(buckets: readonly AdoptionBucket[], status: string): number | null {
  if (status !== 'rolled_back' && status !== 'aborted') return null;
  const latest = byStart(buckets).at(-1);
  return latest?.devicesOnRelease ?? 0;
}

/**
 * A segment's adoption: `sinceStart` are its buckets from the release's start to the range's end
 * (milestones and the withdrawn-bundle count read them); the curve shows those in [fromMs, toMs).
 */
export function segmentAdoption(input: {
  segment: string;
  sinceStart: readonly AdoptionBucket[];
  fromMs: number;
  toMs: number;
  startedAtMs: number;
  stepMs: number;
  status: string;
}): SegmentAdoption {
  const { sinceStart, startedAtMs, stepMs } = input;
  const at = (level: AdoptionLevel) => timeToAdoption(sinceStart, level, startedAtMs, stepMs);
  return {
    segment: input.segment,
    curve: adoptionCurve(sinceStart.filter((b) => b.start >= input.fromMs && b.start < input.toMs)),
    timeToAdoption: { '50': at(0.5), '90': at(0.9), '95': at(0.95) },
    devicesOnWithdrawnBundle: devicesOnWithdrawnBundle(sinceStart, input.status),
  };
}
