import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { PoolClient } from 'pg';
import type { Pool } from '../db/create-pool';
import { OTHER_FEATURE_SLOT } from '../db/stores/rollup-store';
import { createTelemetryStore } from '../db/stores/telemetry-store';
import { DURATION_BIN_EDGES_MS, ROLLUP_SET_BITS } from '../domain/insight';
import { DAY_MS } from '../domain/time';
import { createLogger } from '../platform/logger';
import { startLocalStack } from '../scripts/support/local-stack';
import { until } from '../scripts/support/until';
import { stateQuery } from '../workflows/messages';

/*
 * `npm run bench:insights`: how fast the insight answers are with a big fleet's history in the
 * database — ≥ 10 million raw events from ≥ 1 million devices in the last day, and the rollups and
 * device profiles they imply. The seeder writes them inside PostgreSQL (generate_series, then the
 * rollups aggregated from the raw rows once, as ingestion would have added them), which takes
 * minutes where going through the API would take hours; the answers are then timed through the
 * real API, one request at a time.
 *
 * Seeding takes 5–10 minutes on the 2-core reference machine, so the database (and the Temporal server's state, which
 * runs the release) is kept by name and reused by later runs; BENCH_RESEED=1 starts over.
 *
 * An answer reads whole only the buckets written since the API last read them (the rest it keeps in
 * memory, encoded): besides answers over a quiet history, two rows write buckets before each request,
 * as ingestion would, without changing a figure (`SET sessions = sessions` gives the row a new
 * version) — the latest bucket of each series (a live release), and every bucket of the day (what
 * an API instance that just started pays, and the read of every answer before the memory).
 *
 * Env: BENCH_DEVICES (1,200,000), BENCH_EVENTS (10,200,000), BENCH_REQUESTS (200 per query: p99 is
 * then the third slowest, not the slowest), BENCH_RESEED.
 */

const DEVICES = Number(process.env.BENCH_DEVICES ?? 1_200_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_200_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const RESEED = process.env.BENCH_RESEED === '1';
const DATABASE = 'rampart_bench_insights';
const APP = 'com.example.insights';
const CANDIDATE = '1.1.0';
const STEPS_MS = [300_000, 3_600_000];

const log = (line: string) => process.stdout.write(`${line}\n`);

/** The bucket an event falls in, in SQL: the same flooring as domain/insight.ts. */
const bucketOf = (column: string, stepMs: number) => `to_timestamp(floor(extract(epoch FROM ${column}) * 1000 / ${stepMs}) * ${stepMs} / 1000.0)`;
const ROLLUP_COHORT = `CASE e.cohort WHEN 'none' THEN 'rest' ELSE e.cohort END`;

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  log(`  ${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/** Runs `work` on its own connection, set up for bulk writes; the connection goes back to the pool after. */
async function onConnection<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    // Room to sort and hash in memory: the per-device aggregates spill to disk in many small runs under the server's defaults.
    await client.query(`SET work_mem = '256MB'; SET maintenance_work_mem = '1GB'; SET synchronous_commit = off; SET max_parallel_workers_per_gather = 0`);
    return await work(client);
  } finally {
    client.release();
  }
}

/** Each piece of work on its own connection, at the same time: statements in parallel, one core each. */
const inParallel = (pool: Pool, works: Array<(client: PoolClient) => Promise<unknown>>) => Promise.all(works.map((work) => onConnection(pool, work)));

/** The parts of `total` numbered 1 to total, split into `parts` ranges [from, to]. */
const ranges = (total: number, parts: number) =>
  Array.from({ length: parts }, (_, i) => [Math.floor((total * i) / parts) + 1, Math.floor((total * (i + 1)) / parts)] as const);

/**
 * Raw events, rollups (counters, memberships, histograms, features) and device profiles of one
 * release. What makes it fast: the bulk tables are UNLOGGED while they fill (no WAL per row) and
 * their indexes and primary keys are built once after the load; every device's events per bucket are folded once
 * into a staging table that the counters and the memberships then read without DISTINCT; and
 * independent statements run side by side on separate connections.
 */
async function seed(pool: Pool, releaseId: string): Promise<void> {
  await createTelemetryStore(pool).ensurePartitions(new Date(Date.now() - DAY_MS), 3);
  const partitions = (
    await pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'device_reports'::regclass ORDER BY 1`,
    )
  ).rows.map((r) => r.name);
  const bulkTables = [...partitions, 'rollup_bucket_devices'];
  const indexes = await timed('bulk tables unlogged, without indexes', async () => {
    const dropped = await dropIndexes(pool, ['device_reports', 'rollup_bucket_devices']);
    for (const table of bulkTables) await pool.query(`ALTER TABLE ${table} SET UNLOGGED`);
    return dropped;
  });
  await timed(`${EVENTS.toLocaleString('en')} raw events from ${DEVICES.toLocaleString('en')} devices (2 connections)`, () =>
    inParallel(
      pool,
      ranges(EVENTS, 2).map(([from, to]) => (client) =>
        client.query(
          `INSERT INTO device_reports (app_id, device_id, segment, received_at, types, bundle_versions, occurred_at, release_ids, cohorts, details)
           SELECT $1, 'device-' || s.d,
                  CASE WHEN s.d % 5 = 0 THEN 'power' ELSE 'default' END,
                  s.at,
                  ARRAY[(ARRAY['session_start', 'session_end', 'feature_used', 'session_start', 'session_end', 'feature_used', 'install_ok', 'js_error', 'crash', 'session_start'])[1 + s.g % 10]],
                  ARRAY[CASE WHEN s.d % 20 = 0 OR s.d % 10 > 3 THEN $3 ELSE '1.0.0' END],
                  ARRAY[s.at], ARRAY[$2::text],
                  ARRAY[CASE WHEN s.d % 20 = 0 THEN 'canary' WHEN s.d % 20 = 1 THEN 'control' ELSE 'none' END],
                  ARRAY[NULL::jsonb]
           FROM (SELECT g, (g::bigint * 7919) % $4 AS d, now() - random() * interval '23 hours' AS at FROM generate_series($5::int, $6::int) g) s`,
          [APP, releaseId, CANDIDATE, DEVICES, from, to],
        ),
      ),
    ),
  );
  // One row per device and bucket with what its events add: the distinct counts become plain counts.
  await timed('devices per bucket, both steps and the profiles (3 connections)', () =>
    inParallel(pool, [
      ...STEPS_MS.map((stepMs) => (client: PoolClient) =>
        client.query(
          `CREATE UNLOGGED TABLE seed_members_${stepMs} AS
           SELECT e.segment, ${ROLLUP_COHORT} AS cohort, ${bucketOf('e.occurred_at', stepMs)} AS bucket_start, e.device_id,
                  bool_or(e.bundle_version = ${client.escapeLiteral(CANDIDATE)}) AS on_release, bool_or(e.type = 'crash') AS crashed, bool_or(e.type = 'js_error') AS js_error,
                  count(*) FILTER (WHERE e.type = 'install_ok')::int AS installs_ok, count(*) FILTER (WHERE e.type = 'session_start')::int AS sessions
           FROM device_events e WHERE e.release_id = ${client.escapeLiteral(releaseId)}
           GROUP BY 1, 2, 3, 4`,
        ),
      ),
      (client: PoolClient) =>
        client.query(
          `INSERT INTO devices (app_id, device_id, platform, native_version, bundle_version, channel, attributes, first_seen, last_seen)
           SELECT e.app_id, e.device_id, 'android', '3.1.0', max(e.bundle_version), 'production', '{}', min(e.occurred_at) - interval '30 days', max(e.occurred_at)
           FROM device_events e WHERE e.app_id = $1
           GROUP BY e.app_id, e.device_id
           ON CONFLICT (app_id, device_id) DO NOTHING`,
          [APP],
        ),
    ]),
  );
  await timed('counters', async () => {
    for (const stepMs of STEPS_MS) {
      await pool.query(
        `INSERT INTO rollup_buckets (release_id, segment, cohort, bucket_ms, bucket_start, active_devices, on_release_devices,
                                     crashed_devices, js_error_devices, installs_ok, installs_failed, sessions)
         SELECT $1, s.segment, s.cohort, $2::int, s.bucket_start, count(*), count(*) FILTER (WHERE s.on_release),
                count(*) FILTER (WHERE s.crashed), count(*) FILTER (WHERE s.js_error), sum(s.installs_ok), 0, sum(s.sessions)
         FROM seed_members_${stepMs} s
         GROUP BY 1, 2, 3, 4, 5`,
        [releaseId, stepMs],
      );
    }
  });
  await timed('device memberships, both steps (2 connections)', () =>
    inParallel(
      pool,
      STEPS_MS.map((stepMs) => (client) =>
        client.query(
          `INSERT INTO rollup_bucket_devices (bucket_id, device_id, sets)
           SELECT b.bucket_id, s.device_id,
                  ${ROLLUP_SET_BITS.active} | CASE WHEN s.on_release THEN ${ROLLUP_SET_BITS.on_release} ELSE 0 END
                  | CASE WHEN s.crashed THEN ${ROLLUP_SET_BITS.crashed} ELSE 0 END | CASE WHEN s.js_error THEN ${ROLLUP_SET_BITS.js_error} ELSE 0 END
           FROM seed_members_${stepMs} s
           JOIN rollup_buckets b ON b.release_id = $1 AND b.segment = s.segment AND b.cohort = s.cohort AND b.bucket_ms = $2::int AND b.bucket_start = s.bucket_start`,
          [releaseId, stepMs],
        ),
      ),
    ),
  );
  await timed('histograms and features', () => seedHistogramsAndFeatures(pool));
  await timed('bulk tables logged, indexes (2 connections)', () =>
    inParallel(
      pool,
      (['rollup_bucket_devices', 'device_reports'] as const).map((table) => async (client) => {
        for (const name of table === 'device_reports' ? partitions : [table]) await client.query(`ALTER TABLE ${name} SET LOGGED`);
        for (const index of indexes.get(table)!) await client.query(index);
      }),
    ),
  );
  await timed('ANALYZE', async () => {
    for (const stepMs of STEPS_MS) await pool.query(`DROP TABLE seed_members_${stepMs}`);
    await pool.query('ANALYZE');
  });
}

/**
 * Drops the tables' indexes (their primary keys too), to be built once after a bulk load instead of
 * row by row; answers, per table, the statements that create them again.
 */
async function dropIndexes(pool: Pool, tables: string[]): Promise<Map<string, string[]>> {
  const { rows } = await pool.query<{ table_name: string; index_name: string; constraint_name: string | null; create: string }>(
    `SELECT t.relname AS table_name, i.relname AS index_name, c.conname AS constraint_name,
            CASE WHEN c.conname IS NULL THEN pg_get_indexdef(i.oid)
                 ELSE format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.relname, c.conname, pg_get_constraintdef(c.oid)) END AS create
     FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid
     JOIN pg_class t ON t.oid = x.indrelid
     LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.conrelid = t.oid
     WHERE t.relname = ANY($1::text[]) AND t.relnamespace = current_schema()::regnamespace`,
    [tables],
  );
  const creates = new Map<string, string[]>(tables.map((t) => [t, []]));
  for (const row of rows) {
    await pool.query(row.constraint_name === null ? `DROP INDEX ${row.index_name}` : `ALTER TABLE ${row.table_name} DROP CONSTRAINT ${row.constraint_name}`);
    // A partitioned table's index definition reads ON ONLY (the parent alone); built again, it must reach every partition.
    creates.get(row.table_name)!.push(row.create.replace(' ON ONLY ', ' ON '));
  }
  return creates;
}

/** Histograms and feature uses made up from each bucket's sessions (the raw events carry no durations or names). */
async function seedHistogramsAndFeatures(pool: Pool): Promise<void> {
  await pool.query(`INSERT INTO rollup_feature_names (app_id, feature, slot) SELECT $1, 'feature-' || n, $2::int + n FROM generate_series(1, 10) n`, [APP, OTHER_FEATURE_SLOT]);
  const bins = DURATION_BIN_EDGES_MS.length;
  await pool.query(
    `UPDATE rollup_buckets b SET
       session_durations = ARRAY(SELECT greatest(1, b.sessions / bin) FROM generate_series(1, $1::int) bin ORDER BY bin),
       install_durations = ARRAY(SELECT greatest(1, b.sessions / bin) FROM generate_series(1, $1::int) bin ORDER BY bin),
       feature_uses = ARRAY(SELECT CASE WHEN n = $2::int THEN 0 ELSE greatest(1, b.sessions / n) END FROM generate_series(1, $2::int + 10) n ORDER BY n)`,
    [bins, OTHER_FEATURE_SLOT],
  );
}

interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: Math.round(at(50)), p99: Math.round(at(99)), max: Math.round(sorted.at(-1)!) };
}

async function measure(baseUrl: string, adminKey: string, path: string, before?: () => Promise<unknown>): Promise<Percentiles & { bytes: number }> {
  let bytes = 0;
  const get = async () => {
    const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${adminKey}` } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    bytes = (await res.arrayBuffer()).byteLength;
  };
  return { ...(await sample(get, before)), bytes };
}

/** Times `work` `requests` times one at a time, after 3 warm-up runs; `before` runs ahead of each, untimed. */
async function sample(work: () => Promise<unknown>, before?: () => Promise<unknown>, requests = REQUESTS): Promise<Percentiles> {
  for (let i = 0; i < 3; i++) await work();
  const samples: number[] = [];
  for (let i = 0; i < requests; i++) {
    await before?.();
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return percentiles(samples);
}

/** The release a kept database was seeded for, or null when it holds none (or was left half-seeded). */
async function seededRelease(pool: Pool): Promise<string | null> {
  const { rows } = await pool.query<{ id: string; profiles: boolean }>(
    'SELECT r.id, EXISTS (SELECT 1 FROM devices d WHERE d.app_id = r.app_id) AS profiles FROM releases r WHERE r.app_id = $1',
    [APP],
  );
  const release = rows[0];
  if (release && !release.profiles) throw new Error(`${DATABASE} was left half-seeded; run again with BENCH_RESEED=1`);
  return release?.id ?? null;
}

async function main(): Promise<void> {
  const stack = await startLocalStack({ database: DATABASE, logger: createLogger('bench', 'warn'), keep: true, startOver: RESEED });
  try {
    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${stack.baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.adminKey}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const { pool } = stack;
    let releaseId = await seededRelease(pool);
    if (releaseId === null) {
      await admin('POST', '/v1/apps', { id: APP, name: 'Insight bench' });
      await admin('POST', `/v1/apps/${APP}/segments`, { key: 'power', rule: { attribute: 'attributes.power', op: 'is_true' } });
      await admin('POST', `/v1/apps/${APP}/bundles`, { version: CANDIDATE, url: `https://cdn.example.com/${CANDIDATE}.zip`, sha256: 'ab'.repeat(32), size: 1000 });
      const plan = { stages: [{ exposureBps: 500, minSoakMs: DAY_MS, checkIntervalMs: 60_000, gates: [] }, { exposureBps: 10_000, minSoakMs: 1000, gates: [] }] };
      const id = (await admin('POST', `/v1/apps/${APP}/releases`, { version: CANDIDATE, plan })).id as string;
      releaseId = id;
      await until('the release to run', async () => ((await admin('GET', `/v1/releases/${id}`)).status === 'running' ? true : undefined));
      log('seeding (inside PostgreSQL):');
      const started = performance.now();
      await seed(pool, id);
      log(`  seeding took ${((performance.now() - started) / 60_000).toFixed(1)} min in all`);
    } else {
      log(`reusing the database seeded before (${DATABASE}; BENCH_RESEED=1 seeds it anew)`);
    }
    const sizes = await pool.query<{ events: string; devices: string; memberships: string; buckets: string; seeded_at: Date }>(
      `SELECT (SELECT sum(cardinality(r.types)) FROM device_reports r) AS events, (SELECT count(*) FROM devices) AS devices,
              (SELECT count(*) FROM rollup_bucket_devices) AS memberships, (SELECT count(*) FROM rollup_buckets) AS buckets,
              (SELECT max(r.created_at) FROM releases r) AS seeded_at`,
    );
    const size = sizes.rows[0]!;
    log(`database: ${Number(size.events).toLocaleString('en')} raw events, ${Number(size.devices).toLocaleString('en')} devices, ` +
      `${Number(size.buckets).toLocaleString('en')} rollup buckets, ${Number(size.memberships).toLocaleString('en')} device memberships; ` +
      `seeded ${((Date.now() - size.seeded_at.getTime()) / 60_000).toFixed(0)} min ago`);

    // A new row version for each bucket `where` picks (see the top): no figure changes. VACUUM clears
    // the old versions, which later scans would otherwise read past.
    const touch = (where: string) => async () => {
      await pool.query(`UPDATE rollup_buckets b SET sessions = b.sessions WHERE b.release_id = $1 AND b.bucket_ms = ${STEPS_MS[0]} AND ${where}`, [releaseId]);
      await pool.query('VACUUM rollup_buckets');
    };
    const latestOfEachSeries = `b.bucket_start = (SELECT max(l.bucket_start) FROM rollup_buckets l WHERE l.release_id = b.release_id AND l.segment = b.segment AND l.cohort = b.cohort AND l.bucket_ms = b.bucket_ms)`;
    const queries: Array<[string, string, (() => Promise<unknown>)?]> = [
      ['insights, 1h buckets, last 24 h, every segment and cohort', `/v1/releases/${releaseId}/insights`],
      ['insights, 5m buckets, last 24 h', `/v1/releases/${releaseId}/insights?step=5m`],
      ['insights, 5m, latest bucket of each series written', `/v1/releases/${releaseId}/insights?step=5m`, touch(latestOfEachSeries)],
      ['insights, 5m, every bucket written (read whole)', `/v1/releases/${releaseId}/insights?step=5m`, touch('true')],
      ['insights, 5m, with two features per point', `/v1/releases/${releaseId}/insights?step=5m&feature=feature-1&feature=other`],
      ['insights, power segment, canary cohort', `/v1/releases/${releaseId}/insights?segment=power&cohort=canary`],
      ['app adoption, last 24 h', `/v1/apps/${APP}/adoption`],
      ['app adoption, production channel', `/v1/apps/${APP}/adoption?channel=production`],
    ];
    log(`\n${'answer'.padEnd(58)} p50      p99      max      bytes   (${REQUESTS} requests one at a time, after 3 warm-up; load average before → after)`);
    const row = (name: string, r: Percentiles, verdict: string) =>
      log(`${name.padEnd(58)} ${String(r.p50).padStart(5)} ms ${String(r.p99).padStart(5)} ms ${String(r.max).padStart(5)} ms   ${verdict}`);
    const results = new Map<string, Percentiles>();
    for (const [name, path, before] of queries) {
      const loadBefore = loadavg()[0]!;
      const r = await measure(stack.baseUrl, stack.adminKey, path, before);
      results.set(name, r);
      row(name, r, `${String(r.bytes).padStart(8)}   ${r.p99 < 50 ? 'meets' : 'misses'} p99 < 50 ms   (load ${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)})`);
    }
    // What app adoption did before its per-slot counters (migration 0015): count the active profiles (~0.4 s each: 40 of them).
    const counting = await sample(
      () => pool.query('SELECT d.bundle_version, count(*)::int AS devices FROM devices d WHERE d.app_id = $1 AND d.last_seen >= $2 GROUP BY d.bundle_version', [APP, new Date(Date.now() - DAY_MS)]),
      undefined,
      40,
    );
    // An insight answer waits (at most GATE_VIEW_TIMEOUT_MS) for the workflow's gate report, asked once per GATE_VIEW_MAX_AGE_MS: what the query alone takes.
    const { rows: workflows } = await pool.query<{ workflow_id: string }>('SELECT r.workflow_id FROM releases r WHERE r.id = $1', [releaseId]);
    const gateView = await sample(() => stack.temporal.workflow.getHandle(workflows[0]!.workflow_id).query(stateQuery));
    row('  the gate view alone (the Temporal query an answer waits for, once per 2 s)', gateView, '');
    const adoption = results.get('app adoption, last 24 h')!;
    row('  before: counting active profiles (SQL alone, no HTTP)', counting, `p50 ${(counting.p50 / Math.max(1, adoption.p50)).toFixed(1)}× the counters' whole answer`);
  } finally {
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
