import { MAX_EXACT_RANGE_MEMBERSHIPS, OTHER_FEATURE, ROLLUP_DEVICE_SETS, type RollupCohort } from '../../domain/insight';
import type { AdoptionBucket, FeatureNames, RollupFigures } from '../../domain/insight-report';
import type { Queryable } from '../create-pool';
import { inDeviceSet, OTHER_FEATURE_SLOT } from '../stores/rollup-store';

export interface InsightQuery {
  releaseId: string;
  stepMs: number;
  /** Buckets starting in [from, to). */
  from: Date;
  to: Date;
  segments: string[];
  cohorts: RollupCohort[];
}

/**
 * One bucket's figures as read. While its row does not change, every read answers the same object
 * (so what is derived from it can be kept with it, in a WeakMap); treat it as read-only.
 */
export interface InsightBucket {
  /** Epoch ms. */
  start: number;
  figures: RollupFigures;
}

/** Figures of one segment and cohort: per bucket, and over the whole range. */
export interface InsightSeriesFigures {
  segment: string;
  cohort: RollupCohort;
  /** Buckets with events, oldest first. */
  buckets: InsightBucket[];
  /**
   * Distinct devices over the range, counted once however many buckets they were active in; null
   * when the range reaches buckets whose device memberships were purged, or holds more of them than
   * MAX_EXACT_RANGE_MEMBERSHIPS.
   */
  range: Pick<RollupFigures, 'activeDevices' | 'onReleaseDevices' | 'crashedDevices' | 'jsErrorDevices'> | null;
}

export type AdoptionQuery = Omit<InsightQuery, 'cohorts'>;

export interface InsightRead {
  /** One per segment and cohort asked for, in the order asked. */
  series: InsightSeriesFigures[];
  /** Names of the positions of every bucket's `featureUses`. */
  featureNames: FeatureNames;
  /** The feature names the release's app keeps (domain/insight.ts featureTracking). */
  keptFeatures: string[];
}

export interface InsightReadModel {
  /** Reads rollups only: never raw events. */
  read(query: InsightQuery): Promise<InsightRead>;
  /**
   * Per segment (every cohort together), its buckets with events: distinct devices active and on the
   * release's bundle. A device that changed cohort within a bucket (say it reported on the old bundle,
   * then installed the release's) counts once while the bucket's memberships are kept and the range
   * holds at most MAX_EXACT_RANGE_MEMBERSHIPS of them; otherwise buckets add their cohorts' counts.
   */
  readAdoption(query: AdoptionQuery): Promise<Map<string, AdoptionBucket[]>>;
}

interface SeriesKeyRow {
  segment: string;
  cohort: RollupCohort;
}

interface BucketRow {
  bucket_id: string;
  version: string;
  start_ms: number;
  active_devices: number;
  on_release_devices: number;
  crashed_devices: number;
  js_error_devices: number;
  installs_ok: number;
  installs_failed: number;
  sessions: number;
  /** Arrays of counts as text (`{1,0,3}`): node-postgres parses integer arrays several times slower than a split does. */
  session_durations: string;
  install_durations: string;
  feature_uses: string;
}

/** The counts of an integer array read as text (`{1,0,3}`). */
const counts = (array: string): number[] => (array.length <= 2 ? [] : array.slice(1, -1).split(',').map(Number));

interface RangeRow extends SeriesKeyRow {
  first_counted: Date;
  active_devices: number;
  on_release_devices: number;
  crashed_devices: number;
  js_error_devices: number;
}

const WHERE = (alias: string) =>
  `${alias}.release_id = $1 AND ${alias}.segment = ANY($2::text[]) AND ${alias}.cohort = ANY($3::text[])
   AND ${alias}.bucket_ms = $4 AND ${alias}.bucket_start >= $5 AND ${alias}.bucket_start < $6`;

/*
 * Reading a day of 5-minute buckets whole (1,108 rows for two segments) costs PostgreSQL more than
 * anything else in an answer — writing out three integer arrays per row — and node-postgres as
 * much again to take them in, though all but the latest few buckets are as the last answer read
 * them. So an answer first reads which row version each bucket is at (its `xmin`: the transaction
 * that wrote it, new with every update), and reads whole only the buckets not in memory at that
 * version. A bucket's figures are kept under its bucket_id (never reused) and version. A later
 * version of the same row can have the same xmin only 2^32 transactions later (transaction ids wrap
 * around), so an entry is trusted for at most BUCKET_TRUSTED_MS: an hour, in which no server runs
 * more than a million transactions a second.
 */

/** Per series, its buckets oldest first as `bucket_id:xmin`. */
const VERSIONS_SQL = `
  SELECT b.segment, b.cohort, string_agg(b.bucket_id || ':' || b.xmin, ',' ORDER BY b.bucket_start) AS versions
  FROM rollup_buckets b
  WHERE ${WHERE('b')}
  GROUP BY b.segment, b.cohort`;

/** A bucket's start as epoch ms: node-postgres parses a timestamptz several times slower than a number. */
const START_MS = `(extract(epoch FROM b.bucket_start) * 1000)::float8 AS start_ms`;

// Histograms and feature uses are arrays on the bucket row (migration 0018).
const BUCKETS_SQL = `
  SELECT b.bucket_id::text, b.xmin::text AS version, ${START_MS},
         b.active_devices, b.on_release_devices, b.crashed_devices, b.js_error_devices, b.installs_ok, b.installs_failed, b.sessions,
         b.session_durations::text, b.install_durations::text, b.feature_uses::text
  FROM rollup_buckets b
  WHERE b.bucket_id = ANY($1::bigint[])`;

/** Buckets kept in memory (per process): a day of 5-minute buckets of two segments is 1,108. */
export const INSIGHT_BUCKETS_KEPT = 20_000;
/** How long a kept bucket is trusted without being read again whole (see above). */
export const BUCKET_TRUSTED_MS = 3_600_000;

/** The feature name of each slot of the release's app (OTHER_FEATURE_SLOT is `other`). */
const FEATURE_SLOTS_SQL = `
  SELECT n.slot, n.feature FROM rollup_feature_names n JOIN releases r ON r.app_id = n.app_id WHERE r.id = $1 ORDER BY n.slot`;

const RANGE_SQL = `
  SELECT b.segment, b.cohort, min(b.bucket_start) AS first_counted,
         ${ROLLUP_DEVICE_SETS.map((set) => `count(DISTINCT d.device_id) FILTER (WHERE ${inDeviceSet('d.sets', set)})::int AS ${set}_devices`).join(',\n         ')}
  FROM rollup_buckets b
  JOIN rollup_bucket_devices d ON d.bucket_id = b.bucket_id
  WHERE ${WHERE('b')}
  GROUP BY b.segment, b.cohort`;

const ADOPTION_WHERE = (alias: string) =>
  `${alias}.release_id = $1 AND ${alias}.segment = ANY($2::text[]) AND ${alias}.bucket_ms = $3 AND ${alias}.bucket_start >= $4 AND ${alias}.bucket_start < $5`;

const ADOPTION_SUMS_SQL = `
  SELECT b.segment, ${START_MS}, sum(b.active_devices)::int AS active_devices, sum(b.on_release_devices)::int AS on_release_devices
  FROM rollup_buckets b
  WHERE ${ADOPTION_WHERE('b')}
  GROUP BY b.segment, b.bucket_start
  ORDER BY b.segment, b.bucket_start`;

const ADOPTION_DISTINCT_SQL = `
  SELECT b.segment, ${START_MS},
         count(DISTINCT d.device_id) FILTER (WHERE ${inDeviceSet('d.sets', 'active')})::int AS active_devices,
         count(DISTINCT d.device_id) FILTER (WHERE ${inDeviceSet('d.sets', 'on_release')})::int AS on_release_devices
  FROM rollup_buckets b
  JOIN rollup_bucket_devices d ON d.bucket_id = b.bucket_id
  WHERE ${ADOPTION_WHERE('b')}
  GROUP BY b.segment, b.bucket_start`;

interface AdoptionRow {
  segment: string;
  start_ms: number;
  active_devices: number;
  on_release_devices: number;
}

const seriesKey = (row: SeriesKeyRow) => `${row.segment}\u0000${row.cohort}`;

export interface InsightReadModelOptions {
  /** MAX_EXACT_RANGE_MEMBERSHIPS unless a test needs another. */
  maxExactRangeMemberships?: number;
  /** INSIGHT_BUCKETS_KEPT unless a test needs another. */
  bucketsKept?: number;
}

const toFigures = (row: BucketRow): RollupFigures => ({
  activeDevices: row.active_devices,
  onReleaseDevices: row.on_release_devices,
  crashedDevices: row.crashed_devices,
  jsErrorDevices: row.js_error_devices,
  installsOk: row.installs_ok,
  installsFailed: row.installs_failed,
  sessions: row.sessions,
  histograms: { session_duration: counts(row.session_durations), install_duration: counts(row.install_durations) },
  featureUses: counts(row.feature_uses),
});

interface KeptBucket {
  version: string;
  readAt: number;
  bucket: InsightBucket;
}

/** Buckets by bucket_id, least recently used first (a Map keeps insertion order). */
function createBucketMemory(capacity: number) {
  const kept = new Map<string, KeptBucket>();
  return {
    /** The bucket at `version`, unless it is not kept at it or no longer trusted. */
    get(bucketId: string, version: string, now: number): InsightBucket | undefined {
      const entry = kept.get(bucketId);
      if (entry === undefined || entry.version !== version || now - entry.readAt > BUCKET_TRUSTED_MS) return undefined;
      kept.delete(bucketId);
      kept.set(bucketId, entry);
      return entry.bucket;
    },
    set(bucketId: string, version: string, now: number, bucket: InsightBucket): void {
      kept.delete(bucketId);
      kept.set(bucketId, { version, readAt: now, bucket });
      for (const oldest of kept.keys()) {
        if (kept.size <= capacity) break;
        kept.delete(oldest);
      }
    },
  };
}

/** Position i of featureUses is slot i + 1; a slot without a name (none yet) counts as `other`. */
function featureNamesOf(slots: ReadonlyArray<{ slot: number; feature: string }>): FeatureNames {
  const names = Array.from({ length: Math.max(OTHER_FEATURE_SLOT, ...slots.map((r) => r.slot)) }, () => OTHER_FEATURE);
  for (const r of slots) names[r.slot - 1] = r.feature;
  return names;
}

type BucketMemory = ReturnType<typeof createBucketMemory>;

/** Each series' buckets at the versions VERSIONS_SQL found: kept ones from memory, the others read whole. */
async function currentBuckets(db: Queryable, memory: BucketMemory, versions: ReadonlyArray<SeriesKeyRow & { versions: string }>): Promise<Map<string, InsightBucket[]>> {
  const now = Date.now();
  const ids = new Map<string, string[]>();
  const found = new Map<string, InsightBucket>();
  const unread: string[] = [];
  for (const row of versions) {
    const keys = row.versions.split(',').map((key) => key.split(':') as [string, string]);
    ids.set(seriesKey(row), keys.map(([id]) => id));
    for (const [id, version] of keys) {
      const kept = memory.get(id, version, now);
      if (kept) found.set(id, kept);
      else unread.push(id);
    }
  }
  // A bucket written since its version was read is read at its newer version.
  if (unread.length > 0) {
    for (const row of (await db.query<BucketRow>(BUCKETS_SQL, [unread])).rows) {
      const bucket = { start: row.start_ms, figures: toFigures(row) };
      memory.set(row.bucket_id, row.version, now, bucket);
      found.set(row.bucket_id, bucket);
    }
  }
  // A bucket deleted (by retention) since its version was read is left out.
  return new Map([...ids].map(([key, list]) => [key, list.map((id) => found.get(id)).filter((b) => b !== undefined)]));
}

export function createInsightReadModel(db: Queryable, options: InsightReadModelOptions = {}): InsightReadModel {
  const maxExact = options.maxExactRangeMemberships ?? MAX_EXACT_RANGE_MEMBERSHIPS;
  const memory = createBucketMemory(options.bucketsKept ?? INSIGHT_BUCKETS_KEPT);
  return {
    async readAdoption(query) {
      const params = [query.releaseId, query.segments, query.stepMs, query.from, query.to];
      const { rows } = await db.query<AdoptionRow>(ADOPTION_SUMS_SQL, params);
      // Every member of a bucket is active: the active counts say how many rows a distinct count would read.
      const memberships = rows.reduce((sum, row) => sum + row.active_devices, 0);
      const distinct = new Map<string, AdoptionRow>();
      if (memberships <= maxExact) {
        for (const row of (await db.query<AdoptionRow>(ADOPTION_DISTINCT_SQL, params)).rows) distinct.set(`${row.segment}\u0000${row.start_ms}`, row);
      }
      const bySegment = new Map<string, AdoptionBucket[]>(query.segments.map((s) => [s, []]));
      for (const sums of rows) {
        const row = distinct.get(`${sums.segment}\u0000${sums.start_ms}`) ?? sums;
        bySegment.get(row.segment)?.push({ start: row.start_ms, activeDevices: row.active_devices, devicesOnRelease: row.on_release_devices });
      }
      return bySegment;
    },
    async read(query) {
      const params = [query.releaseId, query.segments, query.cohorts, query.stepMs, query.from, query.to];
      const [versions, slots] = await Promise.all([
        db.query<SeriesKeyRow & { versions: string }>(VERSIONS_SQL, params),
        db.query<{ slot: number; feature: string }>(FEATURE_SLOTS_SQL, [query.releaseId]),
      ]);
      const bucketsOf = await currentBuckets(db, memory, versions.rows);
      const series = new Map<string, InsightSeriesFigures>();
      for (const segment of query.segments) {
        for (const cohort of query.cohorts) {
          const key = seriesKey({ segment, cohort });
          const buckets = bucketsOf.get(key) ?? [];
          const range = { activeDevices: 0, onReleaseDevices: 0, crashedDevices: 0, jsErrorDevices: 0 };
          series.set(key, { segment, cohort, buckets, range });
        }
      }
      // Every member of a bucket is active: the active counts say how many rows the range holds.
      let memberships = 0;
      for (const s of series.values()) {
        for (const { figures: f } of s.buckets) memberships += f.activeDevices;
      }
      const exact = memberships <= maxExact;
      const ranges = exact ? await db.query<RangeRow>(RANGE_SQL, params) : { rows: [] };
      const firstCounted = new Map<string, number>();
      for (const row of ranges.rows) {
        firstCounted.set(seriesKey(row), row.first_counted.getTime());
        series.get(seriesKey(row))!.range = {
          activeDevices: row.active_devices,
          onReleaseDevices: row.on_release_devices,
          crashedDevices: row.crashed_devices,
          jsErrorDevices: row.js_error_devices,
        };
      }
      // Retention purges memberships oldest first: a bucket older than the first counted one lost its.
      for (const [key, s] of series) {
        if (!exact || (s.buckets.length > 0 && s.buckets[0]!.start < (firstCounted.get(key) ?? Infinity))) s.range = null;
      }
      return { series: [...series.values()], featureNames: featureNamesOf(slots.rows), keptFeatures: slots.rows.map((r) => r.feature) };
    },
  };
}
