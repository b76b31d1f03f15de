import type { Attribution } from '../../domain/telemetry';
import type { GateMetric } from '../../domain/gates/gate-spec';
import type { RollupBatch } from '../../domain/insight';
import { TERMINAL_STATUSES } from '../../domain/release';
import { DAY_MS } from '../../domain/time';
import pg from 'pg';
import { arrayLiteral, col, nestedArrayLiteral } from '../columns';
import type { Pool, Queryable } from '../create-pool';
import { withTransaction } from '../create-pool';
import { isPgError } from '../pg-errors';
import { metricBits, WINDOW_BARRIER } from './gate-window-store';
import { createFeatureNames, createMembershipCache, rollupCtes, rollupParams, writeMemberships } from './rollup-store';

export interface DeviceEventRow {
  appId: string;
  deviceId: string;
  releaseId: string | null;
  segment: string;
  cohort: 'canary' | 'control' | 'none';
  type: string;
  bundleVersion: string;
  occurredAt: Date;
  receivedAt: Date;
  details: Record<string, unknown> | null;
}

/**
 * One device-window of a release, already merged: at most one per release, device and bundle in a
 * batch. Its counting window is not the caller's to choose: the write files it, behind the gate's barrier.
 */
export interface DeviceWindowRow {
  releaseId: string;
  /** The release's counting window. */
  windowMs: number;
  deviceId: string;
  onCohortBundle: boolean;
  segment: string;
  slice: NonNullable<Attribution['slice']>;
  /** The gate metrics the device reported in the window. */
  metrics: readonly GateMetric[];
  events: number;
}

export interface TelemetryStore {
  /**
   * Writes raw events (as reports: the events of one device that arrived together are one row),
   * folds device-windows and adds to the rollups in one transaction: all of a batch or nothing.
   */
  write(events: DeviceEventRow[], windows: DeviceWindowRow[], rollups: RollupBatch): Promise<void>;
  /** Creates the daily partitions of raw reports for the `days` UTC days from the one holding `from`; returns the new ones. */
  ensurePartitions(from: Date, days: number): Promise<string[]>;
  /** Drops the daily partitions of raw reports that end at or before `cutoff`; returns their names. */
  dropPartitionsBefore(cutoff: Date): Promise<string[]>;
  /**
   * Deletes up to `limit` device-windows (and as many served-device rows) of releases that ended before `cutoff`; small batches keep
   * locks short. Returns how many rows went.
   */
  purge(cutoff: Date, limit: number): Promise<number>;
}

const PARTITION_PREFIX = 'device_reports_p';
// Any constant of its own: serialises partition changes between processes.
const PARTITIONS_LOCK = 0x52504152;
const NO_PARTITION = '23514';

const utcDay = (at: number) => new Date(Math.floor(at / DAY_MS) * DAY_MS);
const partitionName = (day: Date) => `${PARTITION_PREFIX}${day.toISOString().slice(0, 10).replace(/-/g, '')}`;

/** The UTC day a partition holds, from its name; null for a table that is not a daily partition. */
function partitionDay(name: string): Date | null {
  const match = /^device_reports_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  return match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
}

async function listPartitions(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
     JOIN pg_class c ON c.oid = i.inhrelid
     JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname = 'device_reports' AND p.relnamespace = current_schema()::regnamespace`,
  );
  return rows.map((r) => r.name);
}

// unnest keeps a batch of any size to one statement with a fixed number of parameters (a report's
// arrays travel as one array literal each, element by element of the column's parameter); the
// device-windows and (with rollups) the rollups go into the same statement, so a batch is one round
// trip and, alone, one transaction. Statements are prepared once per connection.
//
// `barrier` takes the gate barrier's lock of each of the batch's releases, shared, for the rest of the
// transaction, and only then reads the clock that files the device-windows: under the window holding
// that time, never an earlier one. A gate read takes the lock exclusively first (GateWindowStore.barrier),
// so a batch either committed before the read or files its rows at or after the read's barrier time,
// in a window the read leaves for the next (README, "Late telemetry and the gate's barrier").
// No deadlock: the locks go in key order and before any row lock of the batch (the rollup keys wait
// for `barrier` too), and a gate holds nothing else. So a batch queued at a gate's lock holds no row
// lock, only barrier locks of smaller keys, which the batches that gate waits for took before theirs.
const GUARDED_BARRIER = `
    SELECT clock_timestamp() AS at
    FROM (SELECT count(*) FROM (
      SELECT pg_advisory_xact_lock_shared(${WINDOW_BARRIER.lockClass}, l.key)
      FROM (SELECT DISTINCT ${WINDOW_BARRIER.keyOf('u.release_id')} AS key FROM unnest($11::text[]) AS u (release_id) ORDER BY 1) l
    ) s) locked`;

const eventsAndWindows = (guarded: boolean) => `
  barrier AS MATERIALIZED (${guarded ? GUARDED_BARRIER : 'SELECT clock_timestamp() AS at'}
  ), reports AS (
    INSERT INTO device_reports (app_id, device_id, segment, received_at, types, bundle_versions, occurred_at, release_ids, cohorts, details)
    SELECT r.app_id, r.device_id, r.segment, r.received_at,
           r.types::text[], r.bundle_versions::text[], r.occurred_at::timestamptz[], r.release_ids::text[], r.cohorts::text[], r.details::jsonb[]
    FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
      AS r (app_id, device_id, segment, received_at, types, bundle_versions, occurred_at, release_ids, cohorts, details)
  ), windows AS (
    INSERT INTO release_device_windows AS w (release_id, window_start, device_id, on_cohort_bundle, segment, slice, metrics, events)
    SELECT u.release_id, date_bin(u.window_ms * interval '1 millisecond', b.at, timestamptz 'epoch'), u.device_id, u.on_cohort_bundle, u.segment, u.slice, u.metrics, u.events
    FROM barrier b
    CROSS JOIN unnest($11::text[], $12::int[], $13::text[], $14::boolean[], $15::text[], $16::text[], $17::int[], $18::int[])
      AS u (release_id, window_ms, device_id, on_cohort_bundle, segment, slice, metrics, events)
    ON CONFLICT (release_id, window_start, device_id, on_cohort_bundle)
    DO UPDATE SET metrics = w.metrics | EXCLUDED.metrics, events = w.events + EXCLUDED.events
  )`;
const BATCH_PARAMS = 18;

/** A store's two batch statements, named apart when unguarded (a connection prepares each name once). */
function batchStatements(guarded: boolean) {
  const suffix = guarded ? '' : '-unguarded';
  return {
    plain: { name: `telemetry-batch${suffix}`, text: `WITH ${eventsAndWindows(guarded)} SELECT NULL` },
    withRollups: {
      name: `telemetry-batch-rollups${suffix}`,
      text: `WITH ${eventsAndWindows(guarded)}, ${rollupCtes(BATCH_PARAMS + 1, 'barrier')} SELECT b.ord, b.bucket_id FROM buckets b`,
    },
  };
}

const sameReport = (a: DeviceEventRow, b: DeviceEventRow) =>
  a.receivedAt.getTime() === b.receivedAt.getTime() && a.deviceId === b.deviceId && a.appId === b.appId && a.segment === b.segment;

/** The events as reports: each run of events of one device that arrived together (one post's) is one row. */
function reportsOf(events: DeviceEventRow[]): DeviceEventRow[][] {
  const reports: DeviceEventRow[][] = [];
  let report: DeviceEventRow[] | undefined;
  for (const event of events) {
    if (report && sameReport(report[0]!, event)) report.push(event);
    else reports.push((report = [event]));
  }
  return reports;
}

const reportParams = (events: DeviceEventRow[]) => {
  const reports = reportsOf(events);
  const first = reports.map((r) => r[0]!);
  return [
    col(first, 'appId'),
    col(first, 'deviceId'),
    col(first, 'segment'),
    col(first, 'receivedAt'),
    nestedArrayLiteral(reports, (e) => e.type),
    nestedArrayLiteral(reports, (e) => e.bundleVersion),
    nestedArrayLiteral(reports, (e) => e.occurredAt),
    nestedArrayLiteral(reports, (e) => e.releaseId),
    nestedArrayLiteral(reports, (e) => e.cohort),
    nestedArrayLiteral(reports, (e) => (e.details === null ? null : JSON.stringify(e.details))),
  ];
};

const windowParams = (windows: DeviceWindowRow[]) => [
  col(windows, 'releaseId'),
  col(windows, 'windowMs'),
  col(windows, 'deviceId'),
  col(windows, 'onCohortBundle'),
  col(windows, 'segment'),
  col(windows, 'slice'),
  arrayLiteral(windows.map((w) => metricBits(w.metrics))),
  col(windows, 'events'),
];

export interface TelemetryStoreOptions {
  /** Adds each batch to the release rollups (default). Off only to measure what they cost (bench/ingestion-rollups.ts). */
  rollups?: boolean;
  /** Device × bucket memberships remembered as committed, so later batches skip their rows (0: none). */
  knownMemberships?: number;
  /**
   * Batches take the gate barrier's locks (default). Off only to measure what they cost
   * (bench/ingestion-rollups.ts): a gate may then miss the rows of a batch that commits late.
   */
  barrier?: boolean;
}

export function createTelemetryStore(pool: Pool, options: TelemetryStoreOptions = {}): TelemetryStore {
  const rollupsOn = options.rollups ?? true;
  const statements = batchStatements(options.barrier ?? true);
  const known = options.knownMemberships === 0 ? null : createMembershipCache(options.knownMemberships);
  const featureNames = createFeatureNames();
  const ensurePartitions = (from: Date, days: number) =>
    withTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITIONS_LOCK]);
      const existing = new Set(await listPartitions(client));
      const created: string[] = [];
      for (let i = 0; i < days; i++) {
        const day = utcDay(from.getTime() + i * DAY_MS);
        const name = partitionName(day);
        if (existing.has(name)) continue;
        await client.query(
          `CREATE TABLE ${pg.escapeIdentifier(name)} PARTITION OF device_reports FOR VALUES FROM ('${day.toISOString()}') TO ('${new Date(day.getTime() + DAY_MS).toISOString()}')`,
        );
        created.push(name);
      }
      return created;
    });

  const insertBatch = async (events: DeviceEventRow[], windows: DeviceWindowRow[], allRollups: RollupBatch) => {
    const base = [...reportParams(events), ...windowParams(windows)];
    // A batch without rollups (switched off, or no event attributed to a release) plans no rollup statements.
    if (!rollupsOn || allRollups.counters.length === 0) {
      await pool.query({ ...statements.plain, values: base });
      return;
    }
    const rollups = known ? known.unknown(allRollups) : allRollups;
    const slots = featureNames.slots(rollups.features);
    // Alone, the statement is its own transaction: one round trip for the whole batch, as without rollups.
    if (slots !== null && rollups.memberships.length === 0) {
      await pool.query({ ...statements.withRollups, values: [...base, ...rollupParams(rollups, slots)] });
      return;
    }
    const committed = await withTransaction(pool, async (client) => {
      const admitted = slots === null ? await featureNames.admit(client, rollups.features) : null;
      const { rows } = await client.query<{ ord: number; bucket_id: number }>({
        ...statements.withRollups,
        values: [...base, ...rollupParams(rollups, admitted?.slots ?? slots!)],
      });
      await writeMemberships(client, rollups.counters, rollups.memberships, rows);
      return admitted;
    });
    // Committed: these rows exist now, whatever else happens.
    committed?.commit();
    known?.remember(rollups.memberships);
  };

  return {
    ensurePartitions,
    async dropPartitionsBefore(cutoff) {
      return withTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITIONS_LOCK]);
        const expired = (await listPartitions(client)).filter((name) => {
          const day = partitionDay(name);
          return day !== null && day.getTime() + DAY_MS <= cutoff.getTime();
        });
        for (const name of expired) await client.query(`DROP TABLE ${pg.escapeIdentifier(name)}`);
        return expired;
      });
    },
    async purge(cutoff, limit) {
      const windows = await pool.query(
        `DELETE FROM release_device_windows WHERE ctid IN (
           SELECT w.ctid FROM release_device_windows w JOIN releases r ON r.id = w.release_id
           WHERE r.status = ANY($3::text[]) AND r.updated_at < $1 LIMIT $2)`,
        [cutoff, limit, TERMINAL_STATUSES],
      );
      const served = await pool.query(
        `DELETE FROM release_served_devices WHERE ctid IN (
           SELECT s.ctid FROM release_served_devices s JOIN releases r ON r.id = s.release_id
           WHERE r.status = ANY($3::text[]) AND r.updated_at < $1 LIMIT $2)`,
        [cutoff, limit, TERMINAL_STATUSES],
      );
      return (windows.rowCount ?? 0) + (served.rowCount ?? 0);
    },
    async write(events, windows, rollups) {
      try {
        await insertBatch(events, windows, rollups);
      } catch (err) {
        // A day nobody created a partition for yet (no worker ran): create it, then write once more.
        if (!isPgError(err, NO_PARTITION) || !/no partition/.test((err as unknown as Error).message) || events.length === 0) throw err;
        const days = [...new Set(events.map((e) => utcDay(e.receivedAt.getTime()).getTime()))];
        for (const day of days) await ensurePartitions(new Date(day), 1);
        await insertBatch(events, windows, rollups);
      }
    },
  };
}
