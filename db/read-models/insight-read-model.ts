import { MAX_EXACT_RANGE_MEMBERSHIPS, OTHER_FEATURE, type RollupCohort } from '../../domain/insight';
import { emptyFigures, type AdoptionBucket, type RollupFigures } from '../../domain/insight-report';
import type { Queryable } from '../create-pool';
import { DEVICE_SET_CODES } from '../stores/rollup-store';

export interface InsightQuery {
  releaseId: string;
  stepMs: number;
  /** Buckets starting in [from, to). */
  from: Date;
  to: Date;
  segments: string[];
  cohorts: RollupCohort[];
}

/** Figures of one segment and cohort: per bucket (by start, epoch ms), and over the whole range. */
export interface InsightSeriesFigures {
  segment: string;
  cohort: RollupCohort;
  buckets: Map<number, RollupFigures>;
  /**
   * Distinct devices over the range, counted once however many buckets they were active in; null
   * when the range reaches buckets whose device memberships were purged, or holds more of them than
   * MAX_EXACT_RANGE_MEMBERSHIPS.
   */
  range: Pick<RollupFigures, 'activeDevices' | 'onReleaseDevices' | 'crashedDevices' | 'jsErrorDevices'> | null;
}

export type AdoptionQuery = Omit<InsightQuery, 'cohorts'>;

export interface InsightReadModel {
  /** Reads rollups only: never raw events. */
  read(query: InsightQuery): Promise<InsightSeriesFigures[]>;
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

interface BucketRow extends SeriesKeyRow {
  bucket_start: Date;
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

/** Calls `each` with every count of an integer array read as text, and its 0-based element. */
function eachCount(array: string, each: (count: number, element: number) => void): void {
  if (array.length <= 2) return;
  array.slice(1, -1).split(',').forEach((count, element) => each(Number(count), element));
}

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

// Histograms and feature uses are arrays on the bucket row (migration 0018): a day of 5-minute
// buckets is one row per bucket, where it was one per histogram bin and feature name (~38,000).
const BUCKETS_SQL = `
  SELECT b.segment, b.cohort, b.bucket_start, b.active_devices, b.on_release_devices, b.crashed_devices, b.js_error_devices,
         b.installs_ok, b.installs_failed, b.sessions,
         b.session_durations::text, b.install_durations::text, b.feature_uses::text
  FROM rollup_buckets b
  WHERE ${WHERE('b')}`;

/** The feature name of each slot of the release's app (OTHER_FEATURE_SLOT is `other`). */
const FEATURE_SLOTS_SQL = `
  SELECT n.slot, n.feature FROM rollup_feature_names n JOIN releases r ON r.app_id = n.app_id WHERE r.id = $1`;

const RANGE_SQL = `
  SELECT b.segment, b.cohort, min(b.bucket_start) AS first_counted,
         count(DISTINCT d.device_id) FILTER (WHERE d.device_set = ${DEVICE_SET_CODES.active})::int AS active_devices,
         count(DISTINCT d.device_id) FILTER (WHERE d.device_set = ${DEVICE_SET_CODES.on_release})::int AS on_release_devices,
         count(DISTINCT d.device_id) FILTER (WHERE d.device_set = ${DEVICE_SET_CODES.crashed})::int AS crashed_devices,
         count(DISTINCT d.device_id) FILTER (WHERE d.device_set = ${DEVICE_SET_CODES.js_error})::int AS js_error_devices
  FROM rollup_buckets b
  JOIN rollup_bucket_devices d ON d.bucket_id = b.bucket_id
  WHERE ${WHERE('b')}
  GROUP BY b.segment, b.cohort`;

const ADOPTION_WHERE = (alias: string) =>
  `${alias}.release_id = $1 AND ${alias}.segment = ANY($2::text[]) AND ${alias}.bucket_ms = $3 AND ${alias}.bucket_start >= $4 AND ${alias}.bucket_start < $5`;

const ADOPTION_SUMS_SQL = `
  SELECT b.segment, b.bucket_start, sum(b.active_devices)::int AS active_devices, sum(b.on_release_devices)::int AS on_release_devices
  FROM rollup_buckets b
  WHERE ${ADOPTION_WHERE('b')}
  GROUP BY b.segment, b.bucket_start
  ORDER BY b.segment, b.bucket_start`;

const ADOPTION_DISTINCT_SQL = `
  SELECT b.segment, b.bucket_start,
         count(DISTINCT d.device_id) FILTER (WHERE d.device_set = ${DEVICE_SET_CODES.active})::int AS active_devices,
         count(DISTINCT d.device_id) FILTER (WHERE d.device_set = ${DEVICE_SET_CODES.on_release})::int AS on_release_devices
  FROM rollup_buckets b
  JOIN rollup_bucket_devices d ON d.bucket_id = b.bucket_id
  WHERE ${ADOPTION_WHERE('b')} AND d.device_set IN (${DEVICE_SET_CODES.active}, ${DEVICE_SET_CODES.on_release})
  GROUP BY b.segment, b.bucket_start`;

interface AdoptionRow {
  segment: string;
  bucket_start: Date;
  active_devices: number;
  on_release_devices: number;
}

const seriesKey = (row: SeriesKeyRow) => `${row.segment}\u0000${row.cohort}`;

export interface InsightReadModelOptions {
  /** MAX_EXACT_RANGE_MEMBERSHIPS unless a test needs another. */
  maxExactRangeMemberships?: number;
}

export function createInsightReadModel(db: Queryable, options: InsightReadModelOptions = {}): InsightReadModel {
  const maxExact = options.maxExactRangeMemberships ?? MAX_EXACT_RANGE_MEMBERSHIPS;
  return {
    async readAdoption(query) {
      const params = [query.releaseId, query.segments, query.stepMs, query.from, query.to];
      const { rows } = await db.query<AdoptionRow>(ADOPTION_SUMS_SQL, params);
      // Each membership added one to a counter, so the sums say how many a distinct count would read.
      const memberships = rows.reduce((sum, row) => sum + row.active_devices + row.on_release_devices, 0);
      const distinct = new Map<string, AdoptionRow>();
      if (memberships <= maxExact) {
        for (const row of (await db.query<AdoptionRow>(ADOPTION_DISTINCT_SQL, params)).rows) distinct.set(`${row.segment}\u0000${row.bucket_start.getTime()}`, row);
      }
      const bySegment = new Map<string, AdoptionBucket[]>(query.segments.map((s) => [s, []]));
      for (const sums of rows) {
        const row = distinct.get(`${sums.segment}\u0000${sums.bucket_start.getTime()}`) ?? sums;
        bySegment.get(row.segment)?.push({ start: row.bucket_start.getTime(), activeDevices: row.active_devices, devicesOnRelease: row.on_release_devices });
      }
      return bySegment;
    },
    async read(query) {
      const params = [query.releaseId, query.segments, query.cohorts, query.stepMs, query.from, query.to];
      const [buckets, slots] = await Promise.all([
        db.query<BucketRow>(BUCKETS_SQL, params),
        db.query<{ slot: number; feature: string }>(FEATURE_SLOTS_SQL, [query.releaseId]),
      ]);
      const featureOf = new Map(slots.rows.map((r) => [r.slot, r.feature]));
      // Each membership added one to a distinct counter, so the counters say how many the range holds.
      const memberships = buckets.rows.reduce((sum, b) => sum + b.active_devices + b.on_release_devices + b.crashed_devices + b.js_error_devices, 0);
      const exact = memberships <= maxExact;
      const ranges = exact ? await db.query<RangeRow>(RANGE_SQL, params) : { rows: [] };
      const series = new Map<string, InsightSeriesFigures>();
      for (const segment of query.segments) {
        for (const cohort of query.cohorts) {
          const range = { activeDevices: 0, onReleaseDevices: 0, crashedDevices: 0, jsErrorDevices: 0 };
          series.set(seriesKey({ segment, cohort }), { segment, cohort, buckets: new Map(), range });
        }
      }
      // One row per bucket (the table's key), so each row makes its bucket's figures whole.
      for (const row of buckets.rows) {
        const figures: RollupFigures = {
          ...emptyFigures(),
          activeDevices: row.active_devices,
          onReleaseDevices: row.on_release_devices,
          crashedDevices: row.crashed_devices,
          jsErrorDevices: row.js_error_devices,
          installsOk: row.installs_ok,
          installsFailed: row.installs_failed,
          sessions: row.sessions,
        };
        series.get(seriesKey(row))!.buckets.set(row.bucket_start.getTime(), figures);
        eachCount(row.session_durations, (count, bin) => (figures.histograms.session_duration[bin] = count));
        eachCount(row.install_durations, (count, bin) => (figures.histograms.install_duration[bin] = count));
        eachCount(row.feature_uses, (uses, element) => {
          if (uses === 0) return;
          const feature = featureOf.get(element + 1) ?? OTHER_FEATURE;
          figures.features.set(feature, (figures.features.get(feature) ?? 0) + uses);
        });
      }
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
        if (!exact || (s.buckets.size > 0 && Math.min(...s.buckets.keys()) < (firstCounted.get(key) ?? Infinity))) s.range = null;
      }
      return [...series.values()];
    },
  };
}
