import { performance } from 'node:perf_hooks';
import type { PoolClient } from 'pg';
import type { Pool } from '../db/create-pool';
import { createTelemetryStore } from '../db/stores/telemetry-store';
import { DAY_MS } from '../domain/time';
import { createLogger } from '../platform/logger';
import { startLocalStack } from '../scripts/support/local-stack';
import { until } from '../scripts/support/until';

/*
 * `npm run bench:insights`: how fast the insight answers are with a big fleet's history in the
 * database — ≥ 10 million raw events from ≥ 1 million devices in the last day, and the rollups and
 * device profiles they imply. The seeder writes them inside PostgreSQL (generate_series, then the
 * rollups aggregated from the raw rows once, as ingestion would have added them), which takes
 * minutes where going through the API would take hours; the answers are then timed through the
 * real API, one request at a time.
 *
 * Seeding takes a quarter of an hour or more, so the database (and the Temporal server's state, which
 * runs the release) is kept by name and reused by later runs; BENCH_RESEED=1 starts over.
 *
 * Env: BENCH_DEVICES (1,200,000), BENCH_EVENTS (10,200,000), BENCH_REQUESTS (40 per query), BENCH_RESEED.
 */

const DEVICES = Number(process.env.BENCH_DEVICES ?? 1_200_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_200_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 40);
const RESEED = process.env.BENCH_RESEED === '1';
const DATABASE = 'rampart_bench_insights';
const APP = 'com.example.insights';
const CANDIDATE = '1.1.0';
const STEPS_MS = [300_000, 3_600_000];

const log = (line: string) => process.stdout.write(`${line}\n`);

/** The bucket an event falls in, in SQL: the same flooring as domain/insight.ts. */
const bucketOf = (column: string) => `to_timestamp(floor(extract(epoch FROM ${column}) * 1000 / $2::int) * $2::int / 1000.0)`;
const ROLLUP_COHORT = `CASE e.cohort WHEN 'none' THEN 'rest' ELSE e.cohort END`;

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  log(`  ${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/** Raw events, rollups (counters, memberships, histograms, features) and device profiles of one release. */
async function seed(stackPool: Pool, releaseId: string): Promise<void> {
  await createTelemetryStore(stackPool).ensurePartitions(new Date(Date.now() - DAY_MS), 3);
  // One session with room to sort and build in memory: the memberships' DISTINCT and primary key
  // spill to disk in many small runs under the server's defaults.
  const pool = await stackPool.connect();
  try {
    await pool.query(`SET work_mem = '512MB'; SET maintenance_work_mem = '1GB'; SET synchronous_commit = off`);
    await seedWith(pool, releaseId);
  } finally {
    pool.release();
  }
}

async function seedWith(pool: PoolClient, releaseId: string): Promise<void> {
  await timed(`${EVENTS.toLocaleString('en')} raw events from ${DEVICES.toLocaleString('en')} devices`, () =>
    pool.query(
      `INSERT INTO device_events (app_id, device_id, release_id, segment, cohort, type, bundle_version, occurred_at, received_at)
       SELECT $1, 'device-' || s.d, $2,
              CASE WHEN s.d % 5 = 0 THEN 'power' ELSE 'default' END,
              CASE WHEN s.d % 20 = 0 THEN 'canary' WHEN s.d % 20 = 1 THEN 'control' ELSE 'none' END,
              (ARRAY['session_start', 'session_end', 'feature_used', 'session_start', 'session_end', 'feature_used', 'install_ok', 'js_error', 'crash', 'session_start'])[1 + s.g % 10],
              CASE WHEN s.d % 20 = 0 OR s.d % 10 > 3 THEN $3 ELSE '1.0.0' END,
              s.at, s.at
       FROM (SELECT g, (g::bigint * 7919) % $4 AS d, now() - random() * interval '23 hours' AS at FROM generate_series(1, $5::int) g) s`,
      [APP, releaseId, CANDIDATE, DEVICES, EVENTS],
    ),
  );
  // Built after the bulk insert: cheaper than keeping the primary key up to date row by row.
  await pool.query('ALTER TABLE rollup_bucket_devices DROP CONSTRAINT rollup_bucket_devices_pkey');
  for (const stepMs of STEPS_MS) {
    await timed(`counters, ${stepMs / 60_000}-minute buckets`, () =>
      pool.query(
        `INSERT INTO rollup_buckets (release_id, segment, cohort, bucket_ms, bucket_start, active_devices, on_release_devices,
                                     crashed_devices, js_error_devices, installs_ok, installs_failed, sessions)
         SELECT e.release_id, e.segment, ${ROLLUP_COHORT}, $2::int, ${bucketOf('e.occurred_at')},
                count(DISTINCT e.device_id), count(DISTINCT e.device_id) FILTER (WHERE e.bundle_version = $3),
                count(DISTINCT e.device_id) FILTER (WHERE e.type = 'crash'), count(DISTINCT e.device_id) FILTER (WHERE e.type = 'js_error'),
                count(*) FILTER (WHERE e.type = 'install_ok'), 0, count(*) FILTER (WHERE e.type = 'session_start')
         FROM device_events e WHERE e.release_id = $1
         GROUP BY 1, 2, 3, 4, 5`,
        [releaseId, stepMs, CANDIDATE],
      ),
    );
    await timed(`device memberships, ${stepMs / 60_000}-minute buckets`, () =>
      pool.query(
        `INSERT INTO rollup_bucket_devices (bucket_id, device_set, device_id)
         SELECT DISTINCT b.bucket_id, m.device_set, e.device_id
         FROM device_events e
         JOIN rollup_buckets b ON b.release_id = e.release_id AND b.segment = e.segment AND b.cohort = ${ROLLUP_COHORT}
                              AND b.bucket_ms = $2::int AND b.bucket_start = ${bucketOf('e.occurred_at')}
         CROSS JOIN LATERAL (VALUES (1, true), (2, e.bundle_version = $3), (3, e.type = 'crash'), (4, e.type = 'js_error')) AS m(device_set, member)
         WHERE e.release_id = $1 AND m.member`,
        [releaseId, stepMs, CANDIDATE],
      ),
    );
  }
  await timed('membership primary key', () => pool.query('ALTER TABLE rollup_bucket_devices ADD PRIMARY KEY (bucket_id, device_set, device_id)'));
  await timed('histograms and features', async () => {
    await pool.query(
      `INSERT INTO rollup_histograms (release_id, segment, cohort, bucket_ms, bucket_start, histogram, bin, count)
       SELECT b.release_id, b.segment, b.cohort, b.bucket_ms, b.bucket_start, h.histogram, bin, greatest(1, b.sessions / (bin + 1))
       FROM rollup_buckets b CROSS JOIN (VALUES ('session_duration'), ('install_duration')) AS h(histogram) CROSS JOIN generate_series(0, 11) bin`,
    );
    await pool.query(`INSERT INTO rollup_feature_names (app_id, feature) SELECT $1, 'feature-' || n FROM generate_series(1, 10) n`, [APP]);
    await pool.query(
      `INSERT INTO rollup_features (release_id, segment, cohort, bucket_ms, bucket_start, feature, uses)
       SELECT b.release_id, b.segment, b.cohort, b.bucket_ms, b.bucket_start, 'feature-' || n, greatest(1, b.sessions / n)
       FROM rollup_buckets b CROSS JOIN generate_series(1, 10) n`,
    );
  });
  await timed(`device profiles`, () =>
    pool.query(
      `INSERT INTO devices (app_id, device_id, platform, native_version, bundle_version, channel, attributes, first_seen, last_seen)
       SELECT e.app_id, e.device_id, 'android', '3.1.0', max(e.bundle_version), 'production', '{}', min(e.occurred_at) - interval '30 days', max(e.occurred_at)
       FROM device_events e WHERE e.app_id = $1
       GROUP BY e.app_id, e.device_id
       ON CONFLICT (app_id, device_id) DO NOTHING`,
      [APP],
    ),
  );
  await timed('ANALYZE', () => pool.query('ANALYZE'));
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

async function measure(baseUrl: string, adminKey: string, path: string): Promise<Percentiles> {
  const get = async () => {
    const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${adminKey}` } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  return sample(get);
}

async function sample(work: () => Promise<unknown>): Promise<Percentiles> {
  for (let i = 0; i < 3; i++) await work();
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
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
  const stack = await startLocalStack({ database: DATABASE, logger: createLogger('bench', 'warn'), keep: !RESEED });
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
      `SELECT (SELECT count(*) FROM device_events) AS events, (SELECT count(*) FROM devices) AS devices,
              (SELECT count(*) FROM rollup_bucket_devices) AS memberships, (SELECT count(*) FROM rollup_buckets) AS buckets,
              (SELECT max(r.created_at) FROM releases r) AS seeded_at`,
    );
    const size = sizes.rows[0]!;
    log(`database: ${Number(size.events).toLocaleString('en')} raw events, ${Number(size.devices).toLocaleString('en')} devices, ` +
      `${Number(size.buckets).toLocaleString('en')} rollup buckets, ${Number(size.memberships).toLocaleString('en')} device memberships; ` +
      `seeded ${((Date.now() - size.seeded_at.getTime()) / 60_000).toFixed(0)} min ago`);

    const queries: Array<[string, string]> = [
      ['insights, 1h buckets, last 24 h, every segment and cohort', `/v1/releases/${releaseId}/insights`],
      ['insights, 5m buckets, last 24 h', `/v1/releases/${releaseId}/insights?step=5m`],
      ['insights, power segment, canary cohort', `/v1/releases/${releaseId}/insights?segment=power&cohort=canary`],
      ['app adoption, last 24 h', `/v1/apps/${APP}/adoption`],
      ['app adoption, production channel', `/v1/apps/${APP}/adoption?channel=production`],
    ];
    log(`\n${'answer'.padEnd(58)} p50      p99      max   (${REQUESTS} requests one at a time, after 3 warm-up)`);
    const row = (name: string, r: Percentiles, verdict: string) =>
      log(`${name.padEnd(58)} ${String(r.p50).padStart(5)} ms ${String(r.p99).padStart(5)} ms ${String(r.max).padStart(5)} ms   ${verdict}`);
    const results = new Map<string, Percentiles>();
    for (const [name, path] of queries) {
      const r = await measure(stack.baseUrl, stack.adminKey, path);
      results.set(name, r);
      row(name, r, `${r.p99 < 50 ? 'meets' : 'misses'} p99 < 50 ms`);
    }
    // What app adoption did before its per-slot counters (migration 0015): count the active profiles.
    const counting = await sample(() =>
      pool.query('SELECT d.bundle_version, count(*)::int AS devices FROM devices d WHERE d.app_id = $1 AND d.last_seen >= $2 GROUP BY d.bundle_version', [APP, new Date(Date.now() - DAY_MS)]),
    );
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
