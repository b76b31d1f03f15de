import { performance } from 'node:perf_hooks';
import { createPool, type Pool } from '../db/create-pool';
import { recreateDatabase } from '../db/ensure-database';
import { migrate } from '../db/migrate';
import { createTelemetryStore, type DeviceEventRow } from '../db/stores/telemetry-store';
import { foldRollups, type RollupBatch, type RollupEvent } from '../domain/insight';
import { DEFAULT_DATABASE_URL } from '../platform/config';
import { createRng } from '../scripts/support/prng';
import { backendCpuMs } from './backend-cpu';

/*
 * `npm run bench:ingestion`: what the release rollups cost durable ingestion. The same generated
 * batches go through the real telemetry store (one transaction per batch, one batch in flight, as
 * the group committer writes them) with rollups on (A: foldRollups + write) and off (B: write only),
 * alternating A/B/A/B on a fresh database; tables are emptied before every run.
 *
 * Env: BENCH_BATCHES (40), BENCH_BATCH_SIZE (5000), BENCH_DEVICES (20000), BENCH_ROUNDS (3),
 * BENCH_BATCH_SPACING_MS (simulated time between batches, 15000: 20 batches per 5-minute bucket),
 * BENCH_KNOWN_MEMBERSHIPS (the store's cache of committed memberships; 0 turns it off).
 */

const BATCHES = Number(process.env.BENCH_BATCHES ?? 40);
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 5000);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SPACING_MS = Number(process.env.BENCH_BATCH_SPACING_MS ?? 15_000);
const APP = 'com.example.bench';
const RELEASE = 'bench-release';
const TARGET = '2.0.0';
const SEGMENTS = ['default', 'power', 'enterprise'];
const FEATURES = Array.from({ length: 30 }, (_, i) => `feature-${i}`);
/** Event types by weight: mostly sessions, some features and installs, a few failures. */
const TYPES: Array<[string, number]> = [
  ['session_start', 30],
  ['session_end', 30],
  ['feature_used', 20],
  ['install_ok', 8],
  ['install_failed', 2],
  ['js_error', 6],
  ['crash', 2],
  ['boot_failed', 2],
];

interface Batch {
  events: DeviceEventRow[];
  rollups: RollupEvent[];
}

function generate(): Batch[] {
  const rng = createRng([20261202]);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng.next() * list.length)]!;
  const totalWeight = TYPES.reduce((a, [, w]) => a + w, 0);
  const pickType = () => {
    let r = rng.next() * totalWeight;
    for (const [type, w] of TYPES) if ((r -= w) < 0) return type;
    return TYPES[0]![0];
  };
  const cohortOf = (i: number): 'canary' | 'control' | 'none' => (i % 10 === 0 ? 'canary' : i % 10 === 1 ? 'control' : 'none');
  const devices = Array.from({ length: DEVICES }, (_, i) => ({
    deviceId: `device-${i.toString().padStart(6, '0')}`,
    segment: pick(SEGMENTS),
    cohort: cohortOf(i),
    onRelease: i % 10 === 0 || rng.next() < 0.5,
  }));
  // Buckets aligned so that a run starts in a fresh 5-minute and 1-hour bucket.
  const start = Math.floor((Date.now() - BATCHES * SPACING_MS) / 3_600_000) * 3_600_000;
  const receivedAt = new Date();
  return Array.from({ length: BATCHES }, (_, b) => {
    const batch: Batch = { events: [], rollups: [] };
    for (let i = 0; i < BATCH_SIZE; i++) {
      const d = pick(devices);
      const type = pickType();
      const occurredAtMs = start + b * SPACING_MS + Math.floor(rng.next() * SPACING_MS);
      const details =
        type === 'feature_used'
          ? { feature: pick(FEATURES) }
          : type === 'session_end' || type === 'install_ok' || type === 'install_failed'
            ? { durationMs: Math.floor(rng.next() * rng.next() * 600_000) }
            : null;
      const bundleVersion = d.onRelease ? TARGET : '1.0.0';
      batch.events.push({
        appId: APP,
        deviceId: d.deviceId,
        releaseId: RELEASE,
        segment: d.segment,
        cohort: d.cohort,
        type,
        bundleVersion,
        occurredAt: new Date(occurredAtMs),
        receivedAt,
        details,
      });
      batch.rollups.push({
        appId: APP,
        releaseId: RELEASE,
        segment: d.segment,
        cohort: d.cohort === 'none' ? 'rest' : d.cohort,
        deviceId: d.deviceId,
        type,
        onRelease: d.onRelease,
        occurredAtMs,
        details,
      });
    }
    return batch;
  });
}

const EMPTY: RollupBatch = { counters: [], memberships: [], histograms: [], features: [] };

async function reset(pool: Pool): Promise<void> {
  await pool.query('TRUNCATE device_events, rollup_buckets, rollup_bucket_devices, rollup_feature_names, release_device_windows');
  await pool.query('VACUUM ANALYZE');
  await pool.query('CHECKPOINT');
}

interface RunResult {
  eventsPerSecond: number;
  foldMs: number;
  writeMs: number;
  /** CPU per batch of this process and of PostgreSQL's backends: on a loaded machine, what the work costs, where wall time says how long it waited. */
  clientCpuMs: number;
  serverCpuMs: number | null;
}

function cpuSince(before: Map<number, number> | null, after: Map<number, number> | null): number | null {
  if (!before || !after) return null;
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

async function runOnce(pool: Pool, batches: Batch[], rollups: boolean): Promise<RunResult> {
  await reset(pool);
  const store = createTelemetryStore(pool, { rollups, ...(process.env.BENCH_KNOWN_MEMBERSHIPS ? { knownMemberships: Number(process.env.BENCH_KNOWN_MEMBERSHIPS) } : {}) });
  let foldMs = 0;
  let writeMs = 0;
  // Every connection opened first, so that the backends measured are the ones that will do the work.
  await Promise.all(Array.from({ length: 4 }, () => pool.query('SELECT 1')));
  const serverBefore = await backendCpuMs(pool, 'rampart');
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  for (const batch of batches) {
    const t0 = performance.now();
    const folded = rollups ? foldRollups(batch.rollups) : EMPTY;
    const t1 = performance.now();
    await store.write(batch.events, [], folded);
    foldMs += t1 - t0;
    writeMs += performance.now() - t1;
  }
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  const serverAfter = await backendCpuMs(pool, 'rampart');
  const serverCpu = cpuSince(serverBefore, serverAfter);
  return {
    eventsPerSecond: (batches.length * BATCH_SIZE) / seconds,
    foldMs: foldMs / batches.length,
    writeMs: writeMs / batches.length,
    clientCpuMs: (client.user + client.system) / 1000 / batches.length,
    serverCpuMs: serverCpu === null ? null : serverCpu / batches.length,
  };
}

async function main(): Promise<void> {
  const url = new URL(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
  url.pathname = '/rampart_bench_ingestion';
  await recreateDatabase(url.toString());
  const pool = createPool(url.toString(), 4);
  try {
    await migrate(pool);
    const batches = generate();
    console.log(`${BATCHES} batches × ${BATCH_SIZE} events, ${DEVICES} devices, one release, ${SPACING_MS} ms of event time per batch`);
    // Warm-up (JIT, partitions, caches): one short run of each, not reported.
    await runOnce(pool, batches.slice(0, 4), true);
    await runOnce(pool, batches.slice(0, 4), false);
    const on: number[] = [];
    const off: number[] = [];
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    for (let round = 1; round <= ROUNDS; round++) {
      const a = await runOnce(pool, batches, true);
      const b = await runOnce(pool, batches, false);
      on.push(a.eventsPerSecond);
      off.push(b.eventsPerSecond);
      const cpu = (r: RunResult) => `CPU ${r.clientCpuMs.toFixed(1)} ms here + ${r.serverCpuMs?.toFixed(1) ?? '?'} ms PostgreSQL`;
      console.log(
        `round ${round}: rollups on ${fmt(a.eventsPerSecond)} events/s (fold ${a.foldMs.toFixed(1)} ms + write ${a.writeMs.toFixed(1)} ms per batch; ${cpu(a)})` +
          ` | off ${fmt(b.eventsPerSecond)} events/s (write ${b.writeMs.toFixed(1)} ms per batch; ${cpu(b)}) | ratio ${(a.eventsPerSecond / b.eventsPerSecond).toFixed(2)}`,
      );
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    console.log(`median: on ${fmt(median(on))} events/s, off ${fmt(median(off))} events/s, ratio ${(median(on) / median(off)).toFixed(2)}`);
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
