import { performance } from 'node:perf_hooks';
import { createPool, type Pool } from '../db/create-pool';
import { recreateDatabase } from '../db/ensure-database';
import { migrate } from '../db/migrate';
import { createGateWindowStore } from '../db/stores/gate-window-store';
import { createTelemetryStore, type DeviceEventRow, type DeviceWindowRow } from '../db/stores/telemetry-store';
import { mergeWindows } from '../api/telemetry/telemetry-service';
import { foldRollups, type RollupBatch, type RollupEvent } from '../domain/insight';
import { GATE_METRIC_OF, type EventType } from '../domain/telemetry';
import { DEFAULT_DATABASE_URL } from '../platform/config';
import { createRng } from '../scripts/support/prng';
import { backendCpuMs } from './backend-cpu';

/*
 * `npm run bench:ingestion`: what the release rollups and the gate barrier cost durable ingestion.
 * The same generated batches (raw events, and the device-windows of canary and control devices) go
 * through the real telemetry store (one transaction per batch, one batch in flight, as the group
 * committer writes them) with rollups on (A: foldRollups + write), off (B: write only), and on
 * without the gate barrier's locks (C), alternating A/B/C/A/B/C on a fresh database; tables are
 * emptied before every run. During every run a gate passes the release's barrier every
 * BENCH_GATE_EVERY_MS, as gate checks do (each waits for the batch in flight; batches arriving
 * meanwhile wait for it): the waits are reported.
 *
 * Env: BENCH_BATCHES (40), BENCH_BATCH_SIZE (5000), BENCH_DEVICES (20000), BENCH_ROUNDS (3),
 * BENCH_BATCH_SPACING_MS (simulated time between batches, 15000: 20 batches per 5-minute bucket),
 * BENCH_KNOWN_MEMBERSHIPS (the store's cache of committed memberships; 0 turns it off),
 * BENCH_GATE_EVERY_MS (100; 0: no gate).
 */

const BATCHES = Number(process.env.BENCH_BATCHES ?? 40);
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 5000);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SPACING_MS = Number(process.env.BENCH_BATCH_SPACING_MS ?? 15_000);
const GATE_EVERY_MS = Number(process.env.BENCH_GATE_EVERY_MS ?? 100);
/** The counting window of the release (a production plan's, capped at a minute). */
const WINDOW_MS = 60_000;
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
  windows: DeviceWindowRow[];
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
    const batch: Batch = { events: [], windows: [], rollups: [] };
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
      if (d.cohort !== 'none') {
        const metric = GATE_METRIC_OF[type as EventType];
        batch.windows.push({
          releaseId: RELEASE,
          windowMs: WINDOW_MS,
          deviceId: d.deviceId,
          onCohortBundle: d.cohort === 'canary' ? d.onRelease : !d.onRelease,
          segment: d.segment,
          slice: d.cohort,
          metrics: metric ? [metric] : [],
          events: 1,
        });
      }
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
    return { ...batch, windows: mergeWindows(batch.windows) };
  });
}

const EMPTY: RollupBatch = { counters: [], memberships: [], histograms: [], features: [] };

async function reset(pool: Pool): Promise<void> {
  await pool.query('TRUNCATE device_reports, rollup_buckets, rollup_bucket_devices, rollup_feature_names, release_device_windows');
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
  /** How long each pass of the gate's barrier took, in ms, sorted. */
  gateWaitsMs: number[];
}

function cpuSince(before: Map<number, number> | null, after: Map<number, number> | null): number | null {
  if (!before || !after) return null;
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** A gate check's barrier, passed every GATE_EVERY_MS until stopped; answers each pass's duration. */
function gateLoop(pool: Pool): () => Promise<number[]> {
  const gate = createGateWindowStore(pool);
  const waits: number[] = [];
  let stopped = GATE_EVERY_MS <= 0;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      await gate.barrier(RELEASE);
      waits.push(performance.now() - t0);
      await new Promise((resolve) => setTimeout(resolve, GATE_EVERY_MS));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return waits.sort((a, b) => a - b);
  };
}

interface Variant {
  label: string;
  rollups: boolean;
  barrier: boolean;
}

const VARIANTS: Variant[] = [
  { label: 'rollups on', rollups: true, barrier: true },
  { label: 'off', rollups: false, barrier: true },
  { label: 'on, no barrier', rollups: true, barrier: false },
];

async function runOnce(pool: Pool, batches: Batch[], variant: Variant): Promise<RunResult> {
  await reset(pool);
  const store = createTelemetryStore(pool, {
    rollups: variant.rollups,
    barrier: variant.barrier,
    ...(process.env.BENCH_KNOWN_MEMBERSHIPS ? { knownMemberships: Number(process.env.BENCH_KNOWN_MEMBERSHIPS) } : {}),
  });
  let foldMs = 0;
  let writeMs = 0;
  // Every connection opened first, so that the backends measured are the ones that will do the work.
  await Promise.all(Array.from({ length: 4 }, () => pool.query('SELECT 1')));
  const serverBefore = await backendCpuMs(pool, 'rampart');
  const clientBefore = process.cpuUsage();
  const stopGate = gateLoop(pool);
  const started = performance.now();
  for (const batch of batches) {
    const t0 = performance.now();
    const folded = variant.rollups ? foldRollups(batch.rollups) : EMPTY;
    const t1 = performance.now();
    await store.write(batch.events, batch.windows, folded);
    foldMs += t1 - t0;
    writeMs += performance.now() - t1;
  }
  const seconds = (performance.now() - started) / 1000;
  const gateWaitsMs = await stopGate();
  const client = process.cpuUsage(clientBefore);
  const serverAfter = await backendCpuMs(pool, 'rampart');
  const serverCpu = cpuSince(serverBefore, serverAfter);
  return {
    eventsPerSecond: (batches.length * BATCH_SIZE) / seconds,
    foldMs: foldMs / batches.length,
    writeMs: writeMs / batches.length,
    clientCpuMs: (client.user + client.system) / 1000 / batches.length,
    serverCpuMs: serverCpu === null ? null : serverCpu / batches.length,
    gateWaitsMs,
  };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function describeRun(variant: Variant, r: RunResult): string {
  const fold = variant.rollups ? `fold ${r.foldMs.toFixed(1)} ms + ` : '';
  const waits = r.gateWaitsMs.length === 0 ? '' : `; gate barrier ${r.gateWaitsMs.length}× median ${median(r.gateWaitsMs).toFixed(1)} ms, max ${r.gateWaitsMs.at(-1)!.toFixed(1)} ms`;
  const cpu = `CPU ${r.clientCpuMs.toFixed(1)} ms here + ${r.serverCpuMs?.toFixed(1) ?? '?'} ms PostgreSQL`;
  return `${variant.label} ${fmt(r.eventsPerSecond)} events/s (${fold}write ${r.writeMs.toFixed(1)} ms per batch; ${cpu}${waits})`;
}

async function main(): Promise<void> {
  const url = new URL(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
  url.pathname = '/rampart_bench_ingestion';
  await recreateDatabase(url.toString());
  const pool = createPool(url.toString(), 4);
  try {
    await migrate(pool);
    const batches = generate();
    const windows = batches.reduce((n, b) => n + b.windows.length, 0) / batches.length;
    console.log(
      `${BATCHES} batches × ${BATCH_SIZE} events (~${Math.round(windows)} device-windows each), ${DEVICES} devices, one release, ${SPACING_MS} ms of event time per batch, ` +
        `a gate barrier every ${GATE_EVERY_MS} ms`,
    );
    // Warm-up (JIT, partitions, caches): one short run of each, not reported.
    for (const variant of VARIANTS) await runOnce(pool, batches.slice(0, 4), variant);
    const rates: number[][] = VARIANTS.map(() => []);
    for (let round = 1; round <= ROUNDS; round++) {
      const results: RunResult[] = [];
      for (const variant of VARIANTS) results.push(await runOnce(pool, batches, variant));
      results.forEach((r, i) => rates[i]!.push(r.eventsPerSecond));
      const [on, off, unguarded] = results.map((r) => r.eventsPerSecond) as [number, number, number];
      console.log(`round ${round}: ${results.map((r, i) => describeRun(VARIANTS[i]!, r)).join(' | ')}`);
      console.log(`round ${round}: rollups on / off ${(on / off).toFixed(2)}, barrier on / off ${(on / unguarded).toFixed(2)}`);
    }
    const [on, off, unguarded] = rates.map(median) as [number, number, number];
    console.log(
      `median: rollups on ${fmt(on)} events/s, off ${fmt(off)} events/s, on without the barrier ${fmt(unguarded)} events/s; ` +
        `rollups on / off ${(on / off).toFixed(2)}, barrier on / off ${(on / unguarded).toFixed(2)}`,
    );
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
