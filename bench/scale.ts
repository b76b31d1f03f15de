import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createApi, type Api } from '../api/create-api';
import { createPool, type Pool } from '../db/create-pool';
import { recreateDatabase } from '../db/ensure-database';
import { migrate } from '../db/migrate';
import { createRolloutStateStore } from '../db/stores/rollout-state-store';
import { newSigningKeyPair } from '../platform/answer-signing';
import { DEFAULT_DATABASE_URL, loadApiConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { newSecretsKey } from '../platform/secret-box';
import { logRolloutStep, measureRollouts, rolloutTable, type RolloutStep } from './measure-rollouts';

/*
 * `npm run bench:scale`: one API instance (in this process, so its memory is this process's) over
 * data grown one dimension at a time by 10× steps, the others fixed: apps, ended releases per app,
 * device overrides, device profiles. Each step reports how long the snapshot takes to load, the heap
 * and RSS it costs, update checks per second (autocannon in its own process, on the other core), and
 * the lag from a published revision to the answer that serves it. The data is written with SQL, as
 * years of use would leave it. BENCH_SCALE_COMPARE=<json of an earlier run> prints ratios against it
 * (the before/after of a change); the run's own JSON goes to .data/bench/scale-<label>.json.
 *
 * Run with --expose-gc (the npm script does): heap and RSS are read after a full collection.
 *
 * The `rollouts` dimension measures the worker instead (see measure-rollouts.ts): 10 → 1,000 live
 * releases on one worker process, its cores, and each release's Temporal history and continue-as-new
 * cadence. BENCH_SCALE_ONLY=rollouts runs only it; BENCH_SCALE_ROLLOUTS_TOP lowers its last step.
 */

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, '.data/bench');
const LABEL = process.env.BENCH_SCALE_LABEL ?? 'run';
const CHECK_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const LAG_SAMPLES = 5;
/** The 5M step of the profiles dimension takes minutes to write on a small machine: opt in. */
const PROFILES_TOP = Number(process.env.BENCH_SCALE_PROFILES_TOP ?? 1_000_000);
const ONLY = process.env.BENCH_SCALE_ONLY?.split(',');
/** The goal the rollouts dimension checks against: 1,000 live rollouts on one worker under one core. */
const ROLLOUTS_GOAL = 1000;
const ROLLOUTS_TOP = Number(process.env.BENCH_SCALE_ROLLOUTS_TOP ?? ROLLOUTS_GOAL);
const APP = 'com.example.app1';
const CHECKED_DEVICES = 20_000;

interface Shape {
  apps: number;
  releasesPerApp: number;
  overrides: number;
  profiles: number;
}

const BASE: Shape = { apps: 10, releasesPerApp: 10, overrides: 0, profiles: 10_000 };

interface Step {
  dimension: string;
  shape: Shape;
  loadMs: number;
  heapMb: number;
  rssMb: number;
  checksPerSecond: number;
  /** Checks per second of this process's CPU: what one API core answers, whatever else runs on the machine. */
  checksPerCpuSecond: number;
  checkP99Ms: number;
  lagP50Ms: number;
  lagMaxMs: number;
  rssAfterLagMb: number;
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const log = (line: string) => process.stdout.write(`${line}\n`);

/** The device ids the load generator sends (load-generator.ts): overrides and profiles name the same. */
const deviceIdSql = (n: string) => `lpad(to_hex(${n}), 8, '0') || '-0000-4000-8000-000000000000'`;

async function seed(pool: Pool, shape: Shape): Promise<string> {
  await pool.query('TRUNCATE apps CASCADE');
  const key = newSigningKeyPair();
  await pool.query(`INSERT INTO apps (id, name) SELECT 'com.example.app' || g, 'App ' || g FROM generate_series(1, $1) g`, [shape.apps]);
  await pool.query(
    `INSERT INTO app_signing_keys (id, app_id, public_key, private_key) SELECT 'key-' || a.id, a.id, $1, $2 FROM apps a`,
    [key.publicKey, key.privateKeyPem],
  );
  await pool.query(
    `INSERT INTO channels (app_id, name, public, allow_self_assign, platforms, deployment_key)
     SELECT a.id, c.name, c.name = 'production', true, '{ios,android}', a.id || '-' || c.name FROM apps a, (VALUES ('production'), ('beta')) c(name)`,
  );
  // Every app: `releasesPerApp` releases that ended days ago (one in ten rolled back), then one at 50 %.
  const n = shape.releasesPerApp + 1;
  await pool.query(
    `INSERT INTO bundles (app_id, version, url, sha256, size, platforms, native_range)
     SELECT a.id, '1.0.' || g, 'https://cdn.example.com/' || a.id || '/1.0.' || g || '.zip', repeat('ab', 32), 2345678, '{ios,android}', '>=3.0.0'
     FROM apps a, generate_series(0, $1) g`,
    [n],
  );
  await pool.query(
    `INSERT INTO releases (id, app_id, channel, version, baseline_version, bucket_salt, plan, status, workflow_id, created_by, created_at)
     SELECT a.id || '-r' || g, a.id, 'production', '1.0.' || g, '1.0.' || (g - 1), md5(a.id || g), '{}'::jsonb,
            CASE WHEN g = $1 THEN 'running' WHEN g % 10 = 0 THEN 'rolled_back' ELSE 'completed' END,
            'wf-' || a.id || '-' || g, 'bench', now() - make_interval(mins => $1 - g + 1) - interval '3 days'
     FROM apps a, generate_series(1, $1) g`,
    [n],
  );
  await pool.query(
    `INSERT INTO rollout_state (release_id, app_id, revision, status, stage_index, exposure, published_at)
     SELECT r.id, r.app_id, 3, r.status, 0,
            CASE WHEN r.status = 'running' THEN '{"default": 5000}'::jsonb WHEN r.status = 'completed' THEN '{"default": 10000}'::jsonb ELSE '{"default": 0}'::jsonb END,
            CASE WHEN r.status = 'running' THEN now() ELSE r.created_at + interval '1 day' END
     FROM releases r`,
  );
  await pool.query(
    `INSERT INTO device_channel_overrides (app_id, device_id, channel, source)
     SELECT $1, ${deviceIdSql('g')}, CASE WHEN g % 2 = 0 THEN 'beta' ELSE 'production' END, 'admin' FROM generate_series(0, $2 - 1) g`,
    [APP, shape.overrides],
  );
  await pool.query(
    `INSERT INTO devices (app_id, device_id, platform, native_version, bundle_version, channel, first_seen, last_seen)
     SELECT $1, ${deviceIdSql('g')}, 'android', '3.1.0', '1.0.1', 'production', now() - interval '10 days', now() - interval '1 hour'
     FROM generate_series(0, $2 - 1) g`,
    [APP, shape.profiles],
  );
  await pool.query('ANALYZE');
  return `${APP}-r${n}`;
}

const checkBody = JSON.stringify({ deviceId: '__DEVICE__', platform: 'android', nativeVersion: '3.1.0', bundleVersion: 'builtin', attributes: {} });

async function checkLoad(url: string): Promise<{ requestsPerSecond: number; p99Ms: number; non2xx: number }> {
  const args = ['--import', 'tsx', path.join(__dirname, 'load-generator.ts'), JSON.stringify({ url, body: checkBody, durationSeconds: CHECK_SECONDS, connections: CONNECTIONS, devices: CHECKED_DEVICES })];
  const [command, argv] = existsSync('/usr/bin/taskset') ? ['taskset', ['-c', '1', process.execPath, ...args]] : [process.execPath, args];
  const { stdout } = await run(command, argv, { cwd: ROOT, maxBuffer: 1 << 20, timeout: (CHECK_SECONDS + 60) * 1000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as { requestsPerSecond: number; p99Ms: number; non2xx: number };
}

async function measure(databaseUrl: string, pool: Pool, dimension: string, shape: Shape): Promise<Step> {
  const live = await seed(pool, shape);
  const config = loadApiConfig({ DATABASE_URL: databaseUrl, RAMPART_SECRETS_KEY: newSecretsKey().toString('base64'), LOG_LEVEL: 'warn' });
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  const api: Api = createApi({
    pool,
    databaseUrl,
    temporal: new Client({ connection }),
    taskQueue: 'bench-scale',
    logger: createLogger('bench-scale', 'warn'),
    // Devices are many here, one load generator: the per-device and per-source limits stay out of the way.
    tuning: { ...config.tuning, deviceRateLimit: { ...config.tuning.deviceRateLimit, perSecond: 1000, burst: 1000 } },
    secretsKey: config.secretsKey!,
  });
  gc();
  const before = process.memoryUsage();
  const started = performance.now();
  await api.start();
  const loadMs = performance.now() - started;
  gc();
  const loaded = process.memoryUsage();
  const server: Server = api.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const cpuBefore = process.cpuUsage();
    const load = await checkLoad(`http://127.0.0.1:${port}/v1/apps/${APP}/check`);
    const cpu = process.cpuUsage(cpuBefore);
    if (load.non2xx > 0) {
      const sample = await fetch(`http://127.0.0.1:${port}/v1/apps/${APP}/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: checkBody.replace('__DEVICE__', 'ffffffff-0000-4000-8000-000000000000') });
      log(`  (${load.non2xx} non-2xx answers, e.g. ${sample.status} ${await sample.text()})`);
    }
    const states = createRolloutStateStore(pool);
    const lags: number[] = [];
    for (let i = 0; i < LAG_SAMPLES; i++) {
      const revision = 4 + i;
      const t0 = performance.now();
      await states.publish({ releaseId: live, appId: APP, revision, status: 'running', stageIndex: 0, exposure: { default: 5000 + 100 * i }, reason: null });
      await api.deps.snapshot.waitForRevision(live, revision, 60_000);
      lags.push(performance.now() - t0);
    }
    gc();
    const after = process.memoryUsage();
    return {
      dimension,
      shape,
      loadMs: Math.round(loadMs),
      heapMb: mb(loaded.heapUsed - before.heapUsed),
      rssMb: mb(loaded.rss),
      checksPerSecond: Math.round(load.requestsPerSecond),
      checksPerCpuSecond: Math.round((load.requestsPerSecond * CHECK_SECONDS) / ((cpu.user + cpu.system) / 1e6)),
      checkP99Ms: load.p99Ms,
      lagP50Ms: Math.round(median(lags) * 10) / 10,
      lagMaxMs: Math.round(Math.max(...lags) * 10) / 10,
      rssAfterLagMb: mb(after.rss),
    };
  } finally {
    server.close();
    server.closeAllConnections();
    await api.stop();
    await connection.close();
  }
}

const steps = (from: number, to: number) => {
  const out: number[] = [];
  for (let v = from; v <= to; v *= 10) out.push(v);
  return out;
};

const DIMENSIONS: Array<{ name: string; shapes: Shape[] }> = [
  { name: 'apps', shapes: steps(10, 10_000).map((apps) => ({ ...BASE, apps })) },
  { name: 'releasesPerApp', shapes: steps(10, 10_000).map((releasesPerApp) => ({ ...BASE, releasesPerApp })) },
  { name: 'overrides', shapes: [0, ...steps(1000, 1_000_000)].map((overrides) => ({ ...BASE, overrides })) },
  { name: 'profiles', shapes: steps(10_000, PROFILES_TOP).map((profiles) => ({ ...BASE, profiles })) },
  // The issue's own measurement: one app with 20,000 ended releases and 200,000 overrides.
  { name: 'issue', shapes: [{ apps: 1, releasesPerApp: 20_000, overrides: 200_000, profiles: 10_000 }] },
];

const shapeKey = (s: Step) => `${s.dimension}:${s.shape.apps}/${s.shape.releasesPerApp}/${s.shape.overrides}/${s.shape.profiles}`;

function table(rows: Step[], compare: Map<string, Step> | null): string {
  const head = '| dimension | apps | releases/app | overrides | profiles | load ms | heap MB | RSS MB | checks/s | checks per CPU-s | check p99 ms | lag p50 ms | lag max ms | RSS after lag MB |';
  const lines = [head, `|${head.split('|').slice(1, -1).map(() => '---').join('|')}|`];
  for (const r of rows) {
    const was = compare?.get(shapeKey(r));
    const cell = (value: number, key: keyof Step) => (was ? `${value} (${(value / Math.max(1e-9, was[key] as number)).toFixed(2)}×)` : String(value));
    lines.push(
      `| ${r.dimension} | ${r.shape.apps} | ${r.shape.releasesPerApp} | ${r.shape.overrides} | ${r.shape.profiles} | ${cell(r.loadMs, 'loadMs')} | ${cell(r.heapMb, 'heapMb')} | ${cell(r.rssMb, 'rssMb')} | ${cell(r.checksPerSecond, 'checksPerSecond')} | ${cell(r.checksPerCpuSecond, 'checksPerCpuSecond')} | ${r.checkP99Ms} | ${cell(r.lagP50Ms, 'lagP50Ms')} | ${r.lagMaxMs} | ${cell(r.rssAfterLagMb, 'rssAfterLagMb')} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (!(globalThis as { gc?: unknown }).gc) log('warning: run with node --expose-gc; heap figures include garbage');
  await mkdir(OUT, { recursive: true });
  const compareFile = process.env.BENCH_SCALE_COMPARE;
  const compare = compareFile ? new Map((JSON.parse(await readFile(compareFile, 'utf8')) as Step[]).map((s) => [shapeKey(s), s])) : null;
  const databaseUrl = new URL(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
  databaseUrl.pathname = '/rampart_bench_scale';
  await recreateDatabase(databaseUrl.toString());
  const pool = createPool(databaseUrl.toString(), 10);
  await migrate(pool);
  const results: Step[] = [];
  const rollouts: RolloutStep[] = [];
  try {
    for (const dimension of DIMENSIONS.filter((d) => !ONLY || ONLY.includes(d.name))) {
      for (const shape of dimension.shapes) {
        const step = await measure(databaseUrl.toString(), pool, dimension.name, shape);
        results.push(step);
        log(`${shapeKey(step)} load ${step.loadMs} ms, heap ${step.heapMb} MB, ${step.checksPerSecond} checks/s (${step.checksPerCpuSecond} per CPU-s), lag p50 ${step.lagP50Ms} ms (load average ${loadavg()[0]!.toFixed(2)})`);
      }
    }
    if (!ONLY || ONLY.includes('rollouts')) {
      for (const live of steps(10, ROLLOUTS_TOP)) {
        const step = await measureRollouts(databaseUrl.toString(), pool, live);
        rollouts.push(step);
        logRolloutStep(step);
      }
    }
  } finally {
    await pool.end();
  }
  await writeFile(path.join(OUT, `scale-${LABEL}.json`), JSON.stringify(results, null, 2));
  log(`\n${LABEL}${compare ? ` (ratios against ${compareFile})` : ''}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  if (results.length > 0) log(table(results, compare));
  if (rollouts.length > 0) {
    await writeFile(path.join(OUT, `scale-rollouts-${LABEL}.json`), JSON.stringify(rollouts, null, 2));
    log(`\nlive rollouts on one worker (worker process alone; ${ROLLOUTS_GOAL} under 1 core is the goal)\n`);
    log(rolloutTable(rollouts, ROLLOUTS_GOAL));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
