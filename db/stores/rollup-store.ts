import { MAX_FEATURE_NAMES_PER_APP, OTHER_FEATURE, type RollupBatch, type RollupDeviceSet, type RollupFeatureCount, type RollupKey, type RollupMembership } from '../../domain/insight';
import { col } from '../columns';
import type { Pool, Queryable } from '../create-pool';

/** `rollup_bucket_devices.device_set` of each distinct-device set. */
export const DEVICE_SET_CODES: Record<RollupDeviceSet, number> = { active: 1, on_release: 2, crashed: 3, js_error: 4 };

// Any constant of its own: serialises the admission of new feature names of one app.
const FEATURE_NAMES_LOCK = 0x52464e;

/** The unnest arguments of a rollup key's five columns, from parameter `$first`. */
const keyParams = (first: number) =>
  `$${first}::text[], $${first + 1}::text[], $${first + 2}::text[], $${first + 3}::int[], $${first + 4}::timestamptz[]`;

const keyColumns = (rows: RollupKey[]) => [
  col(rows, 'releaseId'),
  col(rows, 'segment'),
  col(rows, 'cohort'),
  col(rows, 'stepMs'),
  rows.map((r) => new Date(r.bucketStart)),
];

/**
 * Common table expressions that add a batch's counters, histograms and features, with parameters
 * `$first` onwards (26 of them, rollupParams). They go into the statement that writes
 * the batch's raw events, so a batch costs one round trip. `buckets` answers each counter key's
 * 1-based ordinal in the batch and the id of its bucket; the others touch different tables, so no
 * row is changed twice in the statement. Each list comes sorted by key (foldRollups), so concurrent
 * writers lock rows in the same order.
 */
export function rollupCtes(first: number): string {
  const counters = first;
  const histograms = first + 8;
  const features = first + 16;
  const sessionSums = first + 23;
  return `
  keys AS (
    SELECT * FROM unnest(${keyParams(counters)}, $${counters + 5}::int[], $${counters + 6}::int[], $${counters + 7}::int[],
                         $${sessionSums}::int[], $${sessionSums + 1}::float8[], $${sessionSums + 2}::float8[]) WITH ORDINALITY
      AS c(release_id, segment, cohort, bucket_ms, bucket_start, installs_ok, installs_failed, sessions, timed_sessions, session_ms_sum, session_ms_squares, ord)
  ), upserted AS (
    INSERT INTO rollup_buckets AS b (release_id, segment, cohort, bucket_ms, bucket_start, installs_ok, installs_failed, sessions, timed_sessions, session_ms_sum, session_ms_squares)
    SELECT k.release_id, k.segment, k.cohort, k.bucket_ms, k.bucket_start, k.installs_ok, k.installs_failed, k.sessions, k.timed_sessions, k.session_ms_sum, k.session_ms_squares
    FROM keys k
    ORDER BY k.ord
    ON CONFLICT (release_id, segment, cohort, bucket_ms, bucket_start) DO UPDATE SET
      installs_ok = b.installs_ok + EXCLUDED.installs_ok,
      installs_failed = b.installs_failed + EXCLUDED.installs_failed,
      sessions = b.sessions + EXCLUDED.sessions,
      timed_sessions = b.timed_sessions + EXCLUDED.timed_sessions,
      session_ms_sum = b.session_ms_sum + EXCLUDED.session_ms_sum,
      session_ms_squares = b.session_ms_squares + EXCLUDED.session_ms_squares
    RETURNING b.bucket_id, b.release_id, b.segment, b.cohort, b.bucket_ms, b.bucket_start
  ), buckets AS (
    SELECT k.ord::int AS ord, u.bucket_id
    FROM upserted u
    JOIN keys k ON k.release_id = u.release_id AND k.segment = u.segment AND k.cohort = u.cohort
               AND k.bucket_ms = u.bucket_ms AND k.bucket_start = u.bucket_start
  ), histograms AS (
    INSERT INTO rollup_histograms AS h (release_id, segment, cohort, bucket_ms, bucket_start, histogram, bin, count)
    SELECT * FROM unnest(${keyParams(histograms)}, $${histograms + 5}::text[], $${histograms + 6}::smallint[], $${histograms + 7}::int[])
    ON CONFLICT (release_id, segment, cohort, bucket_ms, bucket_start, histogram, bin) DO UPDATE SET count = h.count + EXCLUDED.count
  ), features AS (
    INSERT INTO rollup_features AS f (release_id, segment, cohort, bucket_ms, bucket_start, feature, uses)
    SELECT * FROM unnest(${keyParams(features)}, $${features + 5}::text[], $${features + 6}::int[])
    ON CONFLICT (release_id, segment, cohort, bucket_ms, bucket_start, feature) DO UPDATE SET uses = f.uses + EXCLUDED.uses
  )`;
}

/** The values of ROLLUP_CTES' parameters; `features` already bounded to the names their apps keep. */
export function rollupParams(batch: RollupBatch, features: RollupFeatureCount[]): unknown[] {
  const { counters, histograms } = batch;
  return [
    ...keyColumns(counters),
    col(counters, 'installsOk'),
    col(counters, 'installsFailed'),
    col(counters, 'sessions'),
    ...keyColumns(histograms),
    col(histograms, 'histogram'),
    col(histograms, 'bin'),
    col(histograms, 'count'),
    ...keyColumns(features),
    col(features, 'feature'),
    col(features, 'count'),
    col(counters, 'timedSessions'),
    col(counters, 'sessionMsSum'),
    col(counters, 'sessionMsSquares'),
  ];
}

/**
 * The rows new to `rollup_bucket_devices` are exactly the devices new to a bucket's distinct
 * counts, so the counts add those and nothing else, in the same statement. The bucket rows were
 * locked by ROLLUP_CTES in this transaction, in key order, so this takes no lock of its own on them.
 */
const MEMBERS_SQL = `
  WITH fresh AS (
    INSERT INTO rollup_bucket_devices (bucket_id, device_set, device_id)
    SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::text[])
    ON CONFLICT DO NOTHING
    RETURNING bucket_id, device_set
  ), fresh_counts AS (
    SELECT f.bucket_id,
           count(*) FILTER (WHERE f.device_set = ${DEVICE_SET_CODES.active})::int AS active_devices,
           count(*) FILTER (WHERE f.device_set = ${DEVICE_SET_CODES.on_release})::int AS on_release_devices,
           count(*) FILTER (WHERE f.device_set = ${DEVICE_SET_CODES.crashed})::int AS crashed_devices,
           count(*) FILTER (WHERE f.device_set = ${DEVICE_SET_CODES.js_error})::int AS js_error_devices
    FROM fresh f
    GROUP BY f.bucket_id
  )
  UPDATE rollup_buckets b SET
    active_devices = b.active_devices + n.active_devices,
    on_release_devices = b.on_release_devices + n.on_release_devices,
    crashed_devices = b.crashed_devices + n.crashed_devices,
    js_error_devices = b.js_error_devices + n.js_error_devices
  FROM fresh_counts n
  WHERE b.bucket_id = n.bucket_id`;

const keyId = (k: RollupKey) => `${k.releaseId}\u0000${k.segment}\u0000${k.cohort}\u0000${k.stepMs}\u0000${k.bucketStart}`;
const sameKey = (a: RollupKey, b: RollupKey) =>
  a.bucketStart === b.bucketStart && a.stepMs === b.stepMs && a.releaseId === b.releaseId && a.segment === b.segment && a.cohort === b.cohort;

/** The 1-based ordinal of each membership's bucket among the counters (every membership's bucket has one). */
function keyOrdinals(counters: RollupKey[], memberships: RollupMembership[]): number[] {
  const ordinals = new Map(counters.map((c, i) => [keyId(c), i + 1]));
  const out = new Array<number>(memberships.length);
  let last: RollupMembership | undefined;
  let lastOrdinal = 0;
  for (let i = 0; i < memberships.length; i++) {
    const m = memberships[i]!;
    if (!last || !sameKey(last, m)) {
      const ordinal = ordinals.get(keyId(m));
      if (ordinal === undefined) throw new Error(`membership of a bucket without counters: ${keyId(m)}`);
      last = m;
      lastOrdinal = ordinal;
    }
    out[i] = lastOrdinal;
  }
  return out;
}

const SET_BIT: Record<RollupDeviceSet, number> = { active: 1, on_release: 2, crashed: 4, js_error: 8 };

interface KnownBucket {
  endMs: number;
  /** Device id → bits (SET_BIT) of the sets it is known committed in. */
  devices: Map<string, number>;
}

/**
 * The memberships this process has written and seen committed, kept for the most recent buckets
 * (at most `maxDevices` device × bucket entries; buckets ending first go first). A membership known
 * here already has its row, so inserting it again could only hit ON CONFLICT DO NOTHING and add
 * nothing: skipping it leaves every count as it was. Anything not known here (other instances'
 * rows, evicted buckets) still goes to the database, which decides.
 */
export interface MembershipCache {
  /** The batch without the memberships known committed. */
  unknown(batch: RollupBatch): RollupBatch;
  /** Call only once the transaction that wrote these memberships has committed. */
  remember(memberships: readonly RollupMembership[]): void;
  size(): number;
}

export function createMembershipCache(maxDevices = 400_000): MembershipCache {
  const buckets = new Map<string, KnownBucket>();
  let size = 0;
  const evict = () => {
    while (size > maxDevices && buckets.size > 0) {
      let oldestId = '';
      let oldest: KnownBucket | undefined;
      for (const [id, bucket] of buckets) if (!oldest || bucket.endMs < oldest.endMs) [oldestId, oldest] = [id, bucket];
      buckets.delete(oldestId);
      size -= oldest!.devices.size;
    }
  };
  /** Calls `each` with every membership and its bucket (looked up once per run of one bucket). */
  const walk = (memberships: readonly RollupMembership[], create: boolean, each: (m: RollupMembership, bucket: KnownBucket | undefined) => void) => {
    let last: RollupMembership | undefined;
    let bucket: KnownBucket | undefined;
    for (const m of memberships) {
      if (!last || !sameKey(last, m)) {
        const id = keyId(m);
        bucket = buckets.get(id);
        if (!bucket && create) buckets.set(id, (bucket = { endMs: m.bucketStart + m.stepMs, devices: new Map() }));
        last = m;
      }
      each(m, bucket);
    }
  };
  return {
    unknown(batch) {
      if (buckets.size === 0) return batch;
      const memberships: RollupMembership[] = [];
      walk(batch.memberships, false, (m, bucket) => {
        if (bucket === undefined || ((bucket.devices.get(m.deviceId) ?? 0) & SET_BIT[m.set]) === 0) memberships.push(m);
      });
      return memberships.length === batch.memberships.length ? batch : { ...batch, memberships };
    },
    remember(memberships) {
      walk(memberships, true, (m, bucket) => {
        const seen = bucket!.devices.get(m.deviceId);
        if (seen === undefined) size++;
        bucket!.devices.set(m.deviceId, (seen ?? 0) | SET_BIT[m.set]);
      });
      evict();
    },
    size: () => size,
  };
}

async function knownFeatureNames(db: Queryable, appIds: string[]): Promise<Map<string, Set<string>>> {
  const { rows } = await db.query<{ app_id: string; feature: string }>(
    'SELECT n.app_id, n.feature FROM rollup_feature_names n WHERE n.app_id = ANY($1::text[])',
    [appIds],
  );
  const known = new Map<string, Set<string>>(appIds.map((id) => [id, new Set<string>()]));
  for (const row of rows) known.get(row.app_id)!.add(row.feature);
  return known;
}

/**
 * The names each app's rollups keep, after admitting this batch's new ones while there is room.
 * Apps that may admit are locked (in a fixed order) and re-read, so concurrent batches never
 * take an app beyond the limit.
 */
async function admitFeatureNames(db: Queryable, features: RollupFeatureCount[]): Promise<Map<string, Set<string>>> {
  const appIds = [...new Set(features.map((f) => f.appId))].sort();
  let known = await knownFeatureNames(db, appIds);
  const admitting = appIds.filter((app) => known.get(app)!.size < MAX_FEATURE_NAMES_PER_APP && features.some((f) => f.appId === app && !known.get(app)!.has(f.feature)));
  if (admitting.length === 0) return known;
  for (const app of admitting) await db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [FEATURE_NAMES_LOCK, app]);
  known = await knownFeatureNames(db, appIds);
  const added: Array<{ appId: string; feature: string }> = [];
  for (const f of features) {
    const names = known.get(f.appId)!;
    if (!admitting.includes(f.appId) || names.has(f.feature) || names.size >= MAX_FEATURE_NAMES_PER_APP) continue;
    names.add(f.feature);
    added.push(f);
  }
  if (added.length > 0) {
    await db.query(
      'INSERT INTO rollup_feature_names (app_id, feature) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING',
      [col(added, 'appId'), col(added, 'feature')],
    );
  }
  return known;
}

/** Names beyond an app's kept ones become `other`; counts that now share a key are added up. */
function boundFeatures(features: RollupFeatureCount[], kept: (appId: string, feature: string) => boolean): RollupFeatureCount[] {
  const merged = new Map<string, RollupFeatureCount>();
  for (const f of features) {
    const feature = kept(f.appId, f.feature) ? f.feature : OTHER_FEATURE;
    const id = `${f.releaseId}\u0000${f.segment}\u0000${f.cohort}\u0000${f.stepMs}\u0000${f.bucketStart}\u0000${feature}`;
    const seen = merged.get(id);
    if (seen) seen.count += f.count;
    else merged.set(id, { ...f, feature });
  }
  return [...merged.values()];
}

/**
 * The feature names each app keeps, as far as this process has seen them committed. Names are only
 * ever added, up to MAX_FEATURE_NAMES_PER_APP, and never removed: a name known here stays kept, and
 * an app known full keeps no other. So a batch whose names are all decided here needs no read of
 * `rollup_feature_names`; any other goes through the database, which decides.
 */
export interface FeatureNames {
  /** The features under the names their apps keep; null when this process cannot tell for some name. */
  bound(features: RollupFeatureCount[]): RollupFeatureCount[] | null;
  /** Admits new names in `db` (the batch's transaction) and bounds the features; `commit` once that transaction has committed. */
  admit(db: Queryable, features: RollupFeatureCount[]): Promise<{ features: RollupFeatureCount[]; commit: () => void }>;
}

export function createFeatureNames(maxApps = 10_000): FeatureNames {
  const apps = new Map<string, ReadonlySet<string>>();
  const decided = (appId: string, feature: string) => {
    const names = apps.get(appId);
    return names !== undefined && (names.has(feature) || names.size >= MAX_FEATURE_NAMES_PER_APP);
  };
  const kept = (appId: string, feature: string) => apps.get(appId)?.has(feature) === true;
  return {
    bound(features) {
      for (const f of features) if (!decided(f.appId, f.feature)) return null;
      return boundFeatures(features, kept);
    },
    async admit(db, features) {
      const names = await admitFeatureNames(db, features);
      return {
        features: boundFeatures(features, (appId, feature) => names.get(appId)!.has(feature)),
        commit: () => {
          for (const [appId, kept] of names) {
            apps.delete(appId);
            apps.set(appId, kept);
          }
          // Apps least recently admitted go first.
          for (const appId of apps.keys()) {
            if (apps.size <= maxApps) break;
            apps.delete(appId);
          }
        },
      };
    },
  };
}

/**
 * Adds the batch's device memberships (and with them its distinct-device counts); `db` is the
 * transaction that ran ROLLUP_CTES, whose `buckets` rows are `buckets`.
 */
export async function writeMemberships(db: Queryable, counters: RollupKey[], memberships: RollupMembership[], buckets: Array<{ ord: number; bucket_id: number }>): Promise<void> {
  if (memberships.length === 0) return;
  const bucketIds = new Array<number>(counters.length);
  for (const row of buckets) bucketIds[row.ord - 1] = row.bucket_id;
  await db.query({
    name: 'rollup-members',
    text: MEMBERS_SQL,
    values: [keyOrdinals(counters, memberships).map((ord) => bucketIds[ord - 1]!), memberships.map((m) => DEVICE_SET_CODES[m.set]), col(memberships, 'deviceId')],
  });
}

export interface RollupStore {
  /**
   * Deletes up to `limit` rows of each rollup table with buckets starting before `cutoff`, and of
   * the device memberships before `membershipCutoff`. Returns how many rows went.
   */
  purge(cutoff: Date, membershipCutoff: Date, limit: number): Promise<number>;
}

const ROLLUP_TABLES = ['rollup_buckets', 'rollup_histograms', 'rollup_features'] as const;

export function createRollupStore(pool: Pool): RollupStore {
  const purgeTable = async (table: (typeof ROLLUP_TABLES)[number], cutoff: Date, limit: number) => {
    const result = await pool.query(
      `DELETE FROM ${table} WHERE ctid IN (SELECT r.ctid FROM ${table} r WHERE r.bucket_start < $1 LIMIT $2)`,
      [cutoff, limit],
    );
    return result.rowCount ?? 0;
  };
  const purgeMemberships = async (cutoff: Date, limit: number) => {
    const result = await pool.query(
      `DELETE FROM rollup_bucket_devices WHERE ctid IN (
         SELECT d.ctid FROM rollup_buckets b JOIN rollup_bucket_devices d ON d.bucket_id = b.bucket_id WHERE b.bucket_start < $1 LIMIT $2)`,
      [cutoff, limit],
    );
    return result.rowCount ?? 0;
  };
  return {
    async purge(cutoff, membershipCutoff, limit) {
      // A bucket goes only once its members have: members of a bucket that is gone could not be found again.
      let total = await purgeMemberships(new Date(Math.max(cutoff.getTime(), membershipCutoff.getTime())), limit);
      if (total >= limit) return total;
      for (const table of ROLLUP_TABLES) total += await purgeTable(table, cutoff, limit);
      return total;
    },
  };
}
