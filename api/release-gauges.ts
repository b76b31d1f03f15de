import type { ReleaseGaugeReadModel, ReleaseGaugeRow } from '../db/read-models/release-gauge-read-model';
import { ROLLUP_STEPS, bucketStartOf } from '../domain/insight';
import type { ReleaseStatus } from '../domain/release';
import type { ServingRelease } from '../domain/serving';
import type { Logger } from '../platform/logger';
import type { GaugeSample } from '../platform/metrics';

/** Releases that get gauges; a release leaving these loses its series on the next scrape. */
const GAUGED_STATUSES: readonly ReleaseStatus[] = ['running', 'paused'];
const GAUGED_COHORTS = ['canary', 'control'] as const;
const WINDOW_STEP_MS = ROLLUP_STEPS['5m'];
/** The rollup buckets read: the 5-minute buckets of the last hour, the current one included. */
const WINDOW_BUCKETS = 12;

export type ReleaseLabel = 'app' | 'version' | 'segment';
export type CrashLabel = ReleaseLabel | 'cohort';

export interface ReleaseGaugePlan {
  exposure: Array<GaugeSample<ReleaseLabel>>;
  adoption: Array<GaugeSample<ReleaseLabel>>;
  updateSuccess: Array<GaugeSample<ReleaseLabel>>;
  crashRate: Array<GaugeSample<CrashLabel>>;
  /** Series left out: over the cap, or a second in-flight release with the same app, version and segment. */
  dropped: number;
}

interface Sums {
  active: number;
  onRelease: number;
  installsOk: number;
  installsFailed: number;
  crashed: Record<(typeof GAUGED_COHORTS)[number], { active: number; crashed: number }>;
}

const emptySums = (): Sums => ({
  active: 0,
  onRelease: 0,
  installsOk: 0,
  installsFailed: 0,
  crashed: { canary: { active: 0, crashed: 0 }, control: { active: 0, crashed: 0 } },
});

function sumsBySegment(rows: readonly ReleaseGaugeRow[]): Map<string, Map<string, Sums>> {
  const result = new Map<string, Map<string, Sums>>();
  for (const row of rows) {
    const segments = result.get(row.releaseId) ?? new Map<string, Sums>();
    result.set(row.releaseId, segments);
    const sums = segments.get(row.segment) ?? emptySums();
    segments.set(row.segment, sums);
    sums.active += row.activeDevices;
    sums.onRelease += row.onReleaseDevices;
    sums.installsOk += row.installsOk;
    sums.installsFailed += row.installsFailed;
    if (row.cohort === 'canary' || row.cohort === 'control') {
      sums.crashed[row.cohort].active += row.activeDevices;
      sums.crashed[row.cohort].crashed += row.crashedDevices;
    }
  }
  return result;
}

/** The series of one release × segment; ratios without a denominator are left out. */
function segmentSeries(labels: Record<ReleaseLabel, string>, exposureBps: number, sums: Sums | undefined): Omit<ReleaseGaugePlan, 'dropped'> {
  const group: Omit<ReleaseGaugePlan, 'dropped'> = { exposure: [{ labels, value: exposureBps / 10_000 }], adoption: [], updateSuccess: [], crashRate: [] };
  if (!sums) return group;
  if (sums.active > 0) group.adoption.push({ labels, value: sums.onRelease / sums.active });
  const installs = sums.installsOk + sums.installsFailed;
  if (installs > 0) group.updateSuccess.push({ labels, value: sums.installsOk / installs });
  for (const cohort of GAUGED_COHORTS) {
    const { active, crashed } = sums.crashed[cohort];
    if (active > 0) group.crashRate.push({ labels: { ...labels, cohort }, value: crashed / active });
  }
  return group;
}

const sizeOf = (group: Omit<ReleaseGaugePlan, 'dropped'>) => group.exposure.length + group.adoption.length + group.updateSuccess.length + group.crashRate.length;

/**
 * The gauges' series of the releases in flight: exposure from the snapshot, the rest from rollup sums
 * of the last hour. At most `maxSeries` series in all, in a stable order (app, version, segment).
 */
export function releaseGaugePlan(releases: Iterable<ServingRelease>, rows: readonly ReleaseGaugeRow[], maxSeries: number): ReleaseGaugePlan {
  const inFlight = [...releases]
    .filter((r) => GAUGED_STATUSES.includes(r.status))
    .sort((a, b) => a.appId.localeCompare(b.appId) || a.target.version.localeCompare(b.target.version) || b.createdAt - a.createdAt);
  const sums = sumsBySegment(rows);
  const plan: ReleaseGaugePlan = { exposure: [], adoption: [], updateSuccess: [], crashRate: [], dropped: 0 };
  const seen = new Set<string>();
  let total = 0;
  for (const release of inFlight) {
    const bySegment = sums.get(release.releaseId);
    const segments = [...new Set([...Object.keys(release.exposure), ...(bySegment?.keys() ?? [])])].sort();
    for (const segment of segments) {
      const labels = { app: release.appId, version: release.target.version, segment };
      const group = segmentSeries(labels, release.exposure[segment] ?? 0, bySegment?.get(segment));
      const key = `${labels.app}\u0000${labels.version}\u0000${segment}`;
      if (seen.has(key) || total + sizeOf(group) > maxSeries) {
        plan.dropped += sizeOf(group);
        continue;
      }
      seen.add(key);
      total += sizeOf(group);
      plan.exposure.push(...group.exposure);
      plan.adoption.push(...group.adoption);
      plan.updateSuccess.push(...group.updateSuccess);
      plan.crashRate.push(...group.crashRate);
    }
  }
  return plan;
}

export interface ReleaseGaugeSourceDeps {
  releases: () => Iterable<ServingRelease>;
  readModel: ReleaseGaugeReadModel;
  logger: Logger;
  /** How long one rollup read answers scrapes. */
  cacheMs: number;
  maxSeries: number;
  now?: () => number;
}

export interface ReleaseGaugeSource {
  plan(): Promise<ReleaseGaugePlan>;
}

/** Plans the gauges at scrape time, reading PostgreSQL at most once per `cacheMs` (or when a new release is in flight). */
export function createReleaseGaugeSource(deps: ReleaseGaugeSourceDeps): ReleaseGaugeSource {
  const now = deps.now ?? Date.now;
  let cached: { at: number; ids: Set<string>; rows: ReleaseGaugeRow[] } | null = null;
  let planned: Promise<ReleaseGaugePlan> | null = null;

  const readRows = async (ids: string[]): Promise<ReleaseGaugeRow[]> => {
    const at = now();
    if (ids.length === 0) return [];
    if (cached && at - cached.at < deps.cacheMs && ids.every((id) => cached!.ids.has(id))) return cached.rows;
    try {
      const from = new Date(bucketStartOf(at, WINDOW_STEP_MS) - (WINDOW_BUCKETS - 1) * WINDOW_STEP_MS);
      const rows = await deps.readModel.recent(ids, WINDOW_STEP_MS, from);
      cached = { at, ids: new Set(ids), rows };
      return rows;
    } catch (err) {
      // A scrape still answers: exposure from memory, the last rollups read (if any) for the rest.
      deps.logger.warn({ err }, 'release gauges: reading rollups failed');
      return cached?.rows ?? [];
    }
  };

  const build = async (): Promise<ReleaseGaugePlan> => {
    const releases = [...deps.releases()].filter((r) => GAUGED_STATUSES.includes(r.status));
    const rows = await readRows(releases.map((r) => r.releaseId));
    return releaseGaugePlan(releases, rows, deps.maxSeries);
  };

  return {
    // A scrape calls every gauge's collect synchronously, before any plan settles: they share one
    // plan (and the dropped counter counts it once); the next scrape builds a new one.
    plan() {
      if (planned) return planned;
      const current = build();
      planned = current;
      const forget = () => {
        if (planned === current) planned = null;
      };
      current.then(forget, forget);
      return current;
    },
  };
}
