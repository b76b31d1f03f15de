import {
  MAX_FEATURE_NAMES_PER_APP,
  OTHER_FEATURE,
  ROLLUP_DEVICE_SETS,
  ROLLUP_SET_BITS,
  type RollupBatch,
  type RollupCounters,
  type RollupDeviceSet,
  type RollupFeatureCount,
  type RollupHistogram,
  type RollupKey,
  type RollupMembership,
} from '../../domain/insight';
import { arrayLiteral, col, type ColumnValue } from '../columns';
import type { Pool, Queryable } from '../create-pool';

/** SQL that is true when `bits` (sets as ROLLUP_SET_BITS, e.g. a membership row's `d.sets`) hold `set`. */
export const inDeviceSet = (bits: string, set: RollupDeviceSet) => `(${bits} & ${ROLLUP_SET_BITS[set]}) <> 0`;

// Any constant of its own: serialises the admission of new feature names of one app.
const FEATURE_NAMES_LOCK = 0x52464e;

/** Slot of `other` in every bucket's `feature_uses`; an app's kept names have theirs from 2 (rollup_feature_names). */
export const OTHER_FEATURE_SLOT = 1;

/** A bucket's row as a batch adds to it: its counters, and its histograms and feature uses by element (0-based). */
interface BucketAdds {
  counter: RollupCounters;
  histograms: Record<RollupHistogram, number[] | undefined>;
  featureUses: number[] | undefined;
}

interface AddedColumn {
  column: string;
  /** Element type of its unnest parameter; arrays of counts travel as text literals, one per row. */
  param: 'int' | 'float8' | 'text';
  /** How a conflicting row takes the batch's value: added up, or (arrays of counts) added element by element. */
  merge: 'sum' | 'counts';
  value: (bucket: BucketAdds) => ColumnValue;
}

/** An array of counts as an `integer[]` literal; elements nobody counted are 0. */
const countsLiteral = (counts: number[] | undefined) => (counts === undefined ? '{}' : `{${Array.from(counts, (n) => n ?? 0).join(',')}}`);

/**
 * What a batch adds to each `rollup_buckets` row besides its key, in the order of their parameters.
 * To count something more per bucket, add its column to the table and here.
 */
const ADDED_COLUMNS: AddedColumn[] = [
  { column: 'installs_ok', param: 'int', merge: 'sum', value: (b) => b.counter.installsOk },
  { column: 'installs_failed', param: 'int', merge: 'sum', value: (b) => b.counter.installsFailed },
  { column: 'sessions', param: 'int', merge: 'sum', value: (b) => b.counter.sessions },
  // An arm's mean session and its variance, for experiments' mean-difference statistic.
  { column: 'timed_sessions', param: 'int', merge: 'sum', value: (b) => b.counter.timedSessions },
  { column: 'session_ms_sum', param: 'float8', merge: 'sum', value: (b) => b.counter.sessionMsSum },
  { column: 'session_ms_squares', param: 'float8', merge: 'sum', value: (b) => b.counter.sessionMsSquares },
  { column: 'session_durations', param: 'text', merge: 'counts', value: (b) => countsLiteral(b.histograms.session_duration) },
  { column: 'install_durations', param: 'text', merge: 'counts', value: (b) => countsLiteral(b.histograms.install_duration) },
  { column: 'feature_uses', param: 'text', merge: 'counts', value: (b) => countsLiteral(b.featureUses) },
];

const KEY_COLUMNS = ['release_id', 'segment', 'cohort', 'bucket_ms', 'bucket_start'] as const;
const KEY_PARAM_TYPES = ['text', 'text', 'text', 'int', 'timestamptz'] as const;

const selected = (c: AddedColumn) => (c.merge === 'counts' ? `k.${c.column}::int[]` : `k.${c.column}`);
const merged = (c: AddedColumn) =>
  c.merge === 'counts' ? `${c.column} = rollup_add_counts(b.${c.column}, EXCLUDED.${c.column})` : `${c.column} = b.${c.column} + EXCLUDED.${c.column}`;

/**
 * Common table expressions that add a batch's rollups to its bucket rows, with parameters `$first`
 * onwards (one per key column and ADDED_COLUMNS entry: rollupParams). They go into the statement
 * that writes the batch's raw events, so a batch costs one round trip. `buckets` answers each bucket's 1-based ordinal in the
 * batch and its id. Counters, histograms and feature uses are all on the bucket rows, which come
 * sorted by key (foldRollups), so concurrent writers lock them in the same order and cannot deadlock.
 * No bucket row is touched before the CTE named `after` has run (the statement's locks that must come
 * before any row lock).
 */
export function rollupCtes(first: number, after: string): string {
  const params = [...KEY_PARAM_TYPES, ...ADDED_COLUMNS.map((c) => c.param)].map((type, i) => `$${first + i}::${type}[]`);
  const added = ADDED_COLUMNS.map((c) => c.column);
  const keyMatch = KEY_COLUMNS.map((c) => `k.${c} = u.${c}`).join(' AND ');
  return `
  keys AS (
    SELECT * FROM unnest(${params.join(', ')}) WITH ORDINALITY AS c(${[...KEY_COLUMNS, ...added].join(', ')}, ord)
    WHERE EXISTS (SELECT FROM ${after})
  ), upserted AS (
    INSERT INTO rollup_buckets AS b (${[...KEY_COLUMNS, ...added].join(', ')})
    SELECT ${[...KEY_COLUMNS.map((c) => `k.${c}`), ...ADDED_COLUMNS.map(selected)].join(', ')}
    FROM keys k
    ORDER BY k.ord
    ON CONFLICT (${KEY_COLUMNS.join(', ')}) DO UPDATE SET ${ADDED_COLUMNS.map(merged).join(', ')}
    RETURNING b.bucket_id, ${KEY_COLUMNS.map((c) => `b.${c}`).join(', ')}
  ), buckets AS (
    SELECT k.ord::int AS ord, u.bucket_id FROM upserted u JOIN keys k ON ${keyMatch}
  )`;
}

/**
 * The values of rollupCtes' parameters. `featureSlots` holds the slot of each of the batch's feature
 * counts (FeatureNames), where their uses are added.
 */
export function rollupParams(batch: RollupBatch, featureSlots: readonly number[]): unknown[] {
  const { counters } = batch;
  const buckets: BucketAdds[] = counters.map((counter) => ({ counter, histograms: { session_duration: undefined, install_duration: undefined }, featureUses: undefined }));
  const histogramBuckets = keyOrdinals(counters, batch.histograms);
  batch.histograms.forEach((h, i) => {
    const histograms = buckets[histogramBuckets[i]! - 1]!.histograms;
    (histograms[h.histogram] ??= [])[h.bin] = h.count;
  });
  const featureBuckets = keyOrdinals(counters, batch.features);
  batch.features.forEach((f, i) => {
    const bucket = buckets[featureBuckets[i]! - 1]!;
    const uses = (bucket.featureUses ??= []);
    const element = featureSlots[i]! - 1;
    uses[element] = (uses[element] ?? 0) + f.count;
  });
  return [
    col(counters, 'releaseId'),
    col(counters, 'segment'),
    col(counters, 'cohort'),
    col(counters, 'stepMs'),
    arrayLiteral(counters.map((c) => new Date(c.bucketStart))),
    ...ADDED_COLUMNS.map((c) => arrayLiteral(buckets.map(c.value))),
  ];
}

/**
 * Adds each device's sets in a bucket to its membership row and, in the same statement, the sets new
 * to the row to the bucket's distinct-device counts: a row written is one whose device is new to the
 * bucket or to one of its sets, and `last_added` says which. Only the conflict arbiter (the primary
 * key) finds existing rows, so no plan can turn a batch into scans. The bucket rows were locked by
 * rollupCtes in this transaction, in key order, so this takes no lock of its own on them.
 */
const MEMBERS_SQL = `
  WITH written AS (
    INSERT INTO rollup_bucket_devices AS d (bucket_id, device_id, sets, last_added)
    SELECT i.bucket_id, i.device_id, i.sets, i.sets FROM unnest($1::bigint[], $2::text[], $3::smallint[]) AS i(bucket_id, device_id, sets)
    ON CONFLICT (bucket_id, device_id) DO UPDATE SET sets = d.sets | EXCLUDED.sets, last_added = EXCLUDED.sets & ~d.sets
    WHERE (EXCLUDED.sets & ~d.sets) <> 0
    RETURNING d.bucket_id, d.last_added
  ), fresh_counts AS (
    SELECT w.bucket_id,
${ROLLUP_DEVICE_SETS.map((set) => `           count(*) FILTER (WHERE ${inDeviceSet('w.last_added', set)})::int AS ${set}_devices`).join(',\n')}
    FROM written w
    GROUP BY w.bucket_id
  )
  UPDATE rollup_buckets b SET
${ROLLUP_DEVICE_SETS.map((set) => `    ${set}_devices = b.${set}_devices + n.${set}_devices`).join(',\n')}
  FROM fresh_counts n
  WHERE b.bucket_id = n.bucket_id`;

const keyId = (k: RollupKey) => `${k.releaseId}\u0000${k.segment}\u0000${k.cohort}\u0000${k.stepMs}\u0000${k.bucketStart}`;
const sameKey = (a: RollupKey, b: RollupKey) =>
  a.bucketStart === b.bucketStart && a.stepMs === b.stepMs && a.releaseId === b.releaseId && a.segment === b.segment && a.cohort === b.cohort;

/** The 1-based ordinal of each row's bucket among the counters (every row of a batch has one). */
function keyOrdinals(counters: readonly RollupKey[], rows: readonly RollupKey[]): number[] {
  const ordinals = new Map(counters.map((c, i) => [keyId(c), i + 1]));
  const out = new Array<number>(rows.length);
  let last: RollupKey | undefined;
  let lastOrdinal = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (!last || !sameKey(last, row)) {
      const ordinal = ordinals.get(keyId(row));
      if (ordinal === undefined) throw new Error(`rollup row of a bucket without counters: ${keyId(row)}`);
      last = row;
      lastOrdinal = ordinal;
    }
    out[i] = lastOrdinal;
  }
  return out;
}

interface KnownBucket {
  endMs: number;
  /** Device id → bits (ROLLUP_SET_BITS) of the sets it is known committed in. */
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
        if (bucket === undefined || (m.sets & ~(bucket.devices.get(m.deviceId) ?? 0)) !== 0) memberships.push(m);
      });
      return memberships.length === batch.memberships.length ? batch : { ...batch, memberships };
    },
    remember(memberships) {
      walk(memberships, true, (m, bucket) => {
        const seen = bucket!.devices.get(m.deviceId);
        if (seen === undefined) size++;
        bucket!.devices.set(m.deviceId, (seen ?? 0) | m.sets);
      });
      evict();
    },
    size: () => size,
  };
}

/** Per app, its kept feature names and their slots. */
type AppFeatureSlots = Map<string, Map<string, number>>;

async function knownFeatureSlots(db: Queryable, appIds: string[]): Promise<AppFeatureSlots> {
  const { rows } = await db.query<{ app_id: string; feature: string; slot: number }>(
    'SELECT n.app_id, n.feature, n.slot FROM rollup_feature_names n WHERE n.app_id = ANY($1::text[])',
    [appIds],
  );
  const known: AppFeatureSlots = new Map(appIds.map((id) => [id, new Map<string, number>()]));
  for (const row of rows) known.get(row.app_id)!.set(row.feature, row.slot);
  return known;
}

/** `other` is no name of its own: its uses, and those of names beyond an app's kept ones, share OTHER_FEATURE_SLOT. */
const undecided = (names: ReadonlyMap<string, number> | undefined, feature: string) =>
  feature !== OTHER_FEATURE && (names === undefined || (!names.has(feature) && names.size < MAX_FEATURE_NAMES_PER_APP));

/**
 * The names each app's rollups keep, with their slots, after admitting this batch's new ones while
 * there is room. Apps that may admit are locked (in a fixed order) and re-read, so concurrent batches
 * never take an app beyond the limit nor give two names one slot.
 */
async function admitFeatureNames(db: Queryable, features: RollupFeatureCount[]): Promise<AppFeatureSlots> {
  const appIds = [...new Set(features.map((f) => f.appId))].sort();
  let known = await knownFeatureSlots(db, appIds);
  const admitting = appIds.filter((app) => features.some((f) => f.appId === app && undecided(known.get(app), f.feature)));
  if (admitting.length === 0) return known;
  for (const app of admitting) await db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [FEATURE_NAMES_LOCK, app]);
  known = await knownFeatureSlots(db, appIds);
  const added: Array<{ appId: string; feature: string; slot: number }> = [];
  for (const f of features) {
    const names = known.get(f.appId)!;
    if (!admitting.includes(f.appId) || !undecided(names, f.feature)) continue;
    const slot = Math.max(OTHER_FEATURE_SLOT, ...names.values()) + 1;
    names.set(f.feature, slot);
    added.push({ appId: f.appId, feature: f.feature, slot });
  }
  if (added.length > 0) {
    await db.query('INSERT INTO rollup_feature_names (app_id, feature, slot) SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[])', [
      col(added, 'appId'),
      col(added, 'feature'),
      col(added, 'slot'),
    ]);
  }
  return known;
}

/** The slot each feature count adds to: its name's, or OTHER_FEATURE_SLOT for a name its app does not keep. */
const slotsOf = (features: RollupFeatureCount[], slot: (appId: string, feature: string) => number | undefined) =>
  features.map((f) => slot(f.appId, f.feature) ?? OTHER_FEATURE_SLOT);

/**
 * The feature names (and their slots) each app keeps, as far as this process has seen them
 * committed. Names are only ever added, up to MAX_FEATURE_NAMES_PER_APP, never removed, and keep
 * their slot: a name known here stays kept, and an app known full keeps no other. So a batch whose
 * names are all decided here needs no read of `rollup_feature_names`; any other goes through the
 * database, which decides.
 */
export interface FeatureNames {
  /** The slot of each feature count; null when this process cannot tell for some name. */
  slots(features: RollupFeatureCount[]): number[] | null;
  /** Admits new names in `db` (the batch's transaction) and answers the slots; `commit` once that transaction has committed. */
  admit(db: Queryable, features: RollupFeatureCount[]): Promise<{ slots: number[]; commit: () => void }>;
}

export function createFeatureNames(maxApps = 10_000): FeatureNames {
  const apps = new Map<string, ReadonlyMap<string, number>>();
  return {
    slots(features) {
      for (const f of features) if (undecided(apps.get(f.appId), f.feature)) return null;
      return slotsOf(features, (appId, feature) => apps.get(appId)?.get(feature));
    },
    async admit(db, features) {
      const names = await admitFeatureNames(db, features);
      return {
        slots: slotsOf(features, (appId, feature) => names.get(appId)!.get(feature)),
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
    values: [arrayLiteral(keyOrdinals(counters, memberships).map((ord) => bucketIds[ord - 1]!)), col(memberships, 'deviceId'), col(memberships, 'sets')],
  });
}

export interface RollupStore {
  /**
   * Deletes up to `limit` rollup buckets starting before `cutoff`, and as many device memberships of
   * buckets starting before `membershipCutoff`. Returns how many rows went.
   */
  purge(cutoff: Date, membershipCutoff: Date, limit: number): Promise<number>;
}

export function createRollupStore(pool: Pool): RollupStore {
  const purgeBuckets = async (cutoff: Date, limit: number) => {
    const result = await pool.query('DELETE FROM rollup_buckets WHERE ctid IN (SELECT b.ctid FROM rollup_buckets b WHERE b.bucket_start < $1 LIMIT $2)', [cutoff, limit]);
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
      total += await purgeBuckets(cutoff, limit);
      return total;
    },
  };
}
