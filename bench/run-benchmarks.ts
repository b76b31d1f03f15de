import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import pg from 'pg';
import { bucketOf } from '../domain/bucketing';
import { createRampartClient, type RampartClient } from '../cli/rampart-client';
import { recreateDatabase } from '../db/ensure-database';
import { DEFAULT_DATABASE_URL } from '../platform/config';
import { newSecretsKey } from '../platform/secret-box';
import { findTemporalCli, freePort, startTemporalDevServer, type DevServer } from '../platform/temporal-dev-server';
import { callgrindAvailable, measureInstructions } from './instructions';
import { checkoutDatabaseName } from '../scripts/support/checkout-database';
import { until } from '../scripts/support/until';
import { backendCpuMs, processCpuMs } from './backend-cpu';

/*
 * `npm run bench`: Rampart's device endpoints against the framework's own ceilings, side by side in
 * one run on this machine — an Express 5 route answering a fixed JSON of the same size and a bare
 * Node http server doing the same — plus durable ingestion throughput and how fast a rollback reaches
 * the answers of two API instances. Servers and load generator run in separate processes.
 */

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, '.data/bench');
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ADMIN_KEY = 'bench-admin-key-0123456789';
/**
 * A fleet checks again every few minutes, so an API instance mostly sees devices it has seen before
 * (profiles cached and written recently). The first-contact run measures the other extreme.
 */
const RETURNING_DEVICES = 20_000;
const NEW_DEVICES = 10_000_000;
/** Distinct devices the measured instance has seen before latency is measured (issue 16: per-device state for millions). */
const FLEET_DEVICES = Number(process.env.BENCH_FLEET_DEVICES ?? 1_000_000);
/** Checks per load generator of the fleet fill (one progress line each). */
const FILL_STEP = 250_000;
/** Device numbers of the fleet fill start here, apart from the returning devices and the first-contact run. */
const FLEET_FIRST_DEVICE = 0x40000000;
const APP = 'com.example.bench';
const LATENCY_RATE = 2000;
/**
 * `npm run bench -- --only ingestion`: the same stack, only the durable-ingestion section (about 2 minutes);
 * `--only checks`: only the check path (throughput, fleet fill, latency at 2,000 checks/s).
 */
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
/** BENCH_PROFILE_API=1: instance A writes a V8 CPU profile to .data/bench/profiles when the bench stops it. */
const PROFILE_API = process.env.BENCH_PROFILE_API === '1';
/** BENCH_API_NODE_FLAGS: more Node flags for instance A (`--trace-gc`, `--require` a sampler), space-separated. */
const API_NODE_FLAGS = process.env.BENCH_API_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
/** BENCH_TARGETS: only the check targets whose names contain one of these comma-separated words (`native,Express`). */
const TARGET_FILTER = process.env.BENCH_TARGETS?.split(',').filter(Boolean);

interface LoadResult {
  requestsPerSecond: number;
  totalRequests: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

const children: ChildProcess[] = [];
let temporal: DevServer | null = null;

// Servers on one core, the load generator on the other, where taskset exists: on a 2-core machine
// this keeps the two from stealing each other's time slices and makes runs comparable.
const pinning = existsSync('/usr/bin/taskset');
const pinned = (cpu: number, args: string[]): [string, string[]] => (pinning ? ['taskset', ['-c', String(cpu), process.execPath, ...args]] : [process.execPath, args]);

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function startChild(name: string, args: string[], env: NodeJS.ProcessEnv, ready: (line: string) => boolean): Promise<ChildProcess> {
  const [command, argv] = pinned(0, args);
  const child = spawn(command, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const onLine = (line: string) => {
      if (ready(line)) resolve(child);
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (!line.includes('"level":30')) process.stderr.write(`[${name}] ${line}\n`);
      onLine(line);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
  });
}

/** A load's request: a POST of a JSON body template, or a GET (no body) with the device id in the URL. */
interface Target {
  name: string;
  url: string;
  body?: string;
}

async function load(config: { url: string; body?: string | undefined; durationSeconds?: number; devices?: number; firstDevice?: number; connections?: number; amount?: number }): Promise<LoadResult> {
  const [command, argv] = pinned(1, [
    '--import',
    'tsx',
    path.join(__dirname, 'load-generator.ts'),
    JSON.stringify({ durationSeconds: DURATION, connections: CONNECTIONS, devices: RETURNING_DEVICES, ...config }),
  ]);
  const { stdout } = await run(command, argv, { cwd: ROOT, maxBuffer: 1 << 20, timeout: ((config.durationSeconds ?? DURATION) + 60) * 1000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult;
}

interface RateResult {
  requests: number;
  achievedRate: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  errors: number;
  non2xx: number;
  /** Instance A's garbage collections during the round (its own targets only): the tail's usual cause. */
  gc?: GcTotals;
}

/** Latency at a fixed request rate, open loop (see constant-rate.ts for why not autocannon). */
async function loadAtRate(config: { url: string; body?: string | undefined; rate: number }): Promise<RateResult> {
  const [command, argv] = pinned(1, [
    '--import',
    'tsx',
    path.join(__dirname, 'constant-rate.ts'),
    JSON.stringify({ durationSeconds: DURATION, warmupSeconds: 3, devices: RETURNING_DEVICES, ...config }),
  ]);
  const { stdout } = await run(command, argv, { cwd: ROOT, maxBuffer: 1 << 20, timeout: (DURATION + 60) * 1000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as RateResult;
}

const checkBody = (deviceId: string, bundleVersion = 'builtin') =>
  JSON.stringify({ deviceId, platform: 'android', nativeVersion: '3.1.0', bundleVersion, attributes: { plan: 'pro', tester: false } });

async function deviceAnswer(base: string, deviceId: string, bundleVersion: string): Promise<{ action: string; bundle?: { version: string } }> {
  const res = await fetch(`${base}/v1/apps/${APP}/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: checkBody(deviceId, bundleVersion) });
  return (await res.json()) as { action: string; bundle?: { version: string } };
}

/** Both API instances offer `version` to a device in its canary cohort: the release is published everywhere. */
async function servedEverywhere(bases: string[], deviceId: string, version: string): Promise<true | undefined> {
  const answers = await Promise.all(bases.map((base) => deviceAnswer(base, deviceId, 'builtin')));
  return answers.every((a) => a.action === 'update' && a.bundle?.version === version) ? true : undefined;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  log('building (npm run build) …');
  await run('npm', ['run', 'build'], { cwd: ROOT, maxBuffer: 16 << 20 });

  const databaseUrl = new URL(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
  // One per checkout: two checkouts benchmarking on one machine must not recreate each other's database mid-run.
  databaseUrl.pathname = `/${checkoutDatabaseName(ROOT)}_bench`;
  await recreateDatabase(databaseUrl.toString());

  temporal = await startTemporalDevServer({ cliPath: await findTemporalCli(), port: await freePort(), logFile: path.join(OUT, 'temporal.log') });
  const [portA, portB, portC, workerPort, expressPort, expressOnRampartPort, barePort, opsPortA, opsPortC] = await Promise.all(Array.from({ length: 9 }, () => freePort()));
  const env = {
    DATABASE_URL: databaseUrl.toString(),
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'bench',
    RAMPART_ADMIN_KEY: ADMIN_KEY,
    // Processes refuse to start without one since webhook URLs and signing keys are sealed.
    RAMPART_SECRETS_KEY: newSecretsKey().toString('base64'),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    // The stalled-reach section registers a webhook receiver on loopback that never answers.
    RAMPART_WEBHOOKS_ALLOW_PRIVATE: 'true',
  };
  await startChild('worker', ['dist/worker/main.js'], { ...env, WORKER_METRICS_PORT: String(workerPort), WORKFLOW_BUNDLE_PATH: path.join(ROOT, 'dist/workflow-bundle.js'), LOG_LEVEL: 'info' }, (l) => l.includes('worker started'));
  // A's ops port is known: its heap is read from its metrics before and after the fleet fill.
  const profileArgs = PROFILE_API ? ['--cpu-prof', `--cpu-prof-dir=${path.join(OUT, 'profiles')}`] : [];
  await rm(path.join(OUT, 'heap'), { recursive: true, force: true });
  await mkdir(path.join(OUT, 'heap'));
  const heapArgs = ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${path.join(OUT, 'heap')}`];
  const apiA = await startChild('api-a', [...profileArgs, ...API_NODE_FLAGS, ...heapArgs, 'dist/api/main.js'], { ...env, PORT: String(portA), API_METRICS_PORT: String(opsPortA), LOG_LEVEL: 'info' }, (l) => l.includes('api listening'));
  await startChild('api-b', ['dist/api/main.js'], { ...env, PORT: String(portB), API_METRICS_PORT: '0', LOG_LEVEL: 'info' }, (l) => l.includes('api listening'));
  const A = `http://127.0.0.1:${portA}`;
  const admin = createRampartClient(A, ADMIN_KEY);
  const B = `http://127.0.0.1:${portB}`;
  // Only ingestion is measured on it: the same build with the insight rollups off.
  await startChild('api-c', ['dist/api/main.js'], { ...env, PORT: String(portC), API_METRICS_PORT: String(opsPortC), LOG_LEVEL: 'info', RAMPART_INSIGHT_ROLLUPS: 'false' }, (l) => l.includes('api listening'));
  const C = `http://127.0.0.1:${portC}`;
  const ingestionInstances = { rollupsOn: { url: A, metricsUrl: `http://127.0.0.1:${opsPortA}/metrics` }, rollupsOff: { url: C, metricsUrl: `http://127.0.0.1:${opsPortC}/metrics` } };

  // A realistic app: three segment rules, a finished release and one in flight at 50 %.
  await admin.post('/v1/apps', { id: APP, name: 'Bench' });
  await admin.post(`/v1/apps/${APP}/segments`, { key: 'beta', rule: { attribute: 'attributes.tester', op: 'is_true' } });
  await admin.post(`/v1/apps/${APP}/segments`, { key: 'power', rule: { attribute: 'sessionsLast7d', op: 'gte', value: 20 } });
  await admin.post(`/v1/apps/${APP}/segments`, { key: 'enterprise', rule: { attribute: 'attributes.plan', op: 'in', values: ['enterprise', 'business'] } });
  for (const version of ['1.0.0', '1.1.0']) {
    await admin.post(`/v1/apps/${APP}/bundles`, { version, url: `https://cdn.example.com/${APP}/${version}.zip`, sha256: 'ab'.repeat(32), size: 2_345_678, nativeRange: '>=3.0.0' });
  }
  const quick = { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] };
  const first = (await admin.post(`/v1/apps/${APP}/releases`, { version: '1.0.0', plan: quick })).id as string;
  await until('first release to complete', async () => ((await admin.get(`/v1/releases/${first}`)).status === 'completed' ? true : undefined));
  const half = { stages: [{ exposureBps: 5000, minSoakMs: 3_600_000, checkIntervalMs: 60_000, gates: [] }, { exposureBps: 10_000, minSoakMs: 1000, gates: [] }] };
  const running = (await admin.post(`/v1/apps/${APP}/releases`, { version: '1.1.0', plan: half })).id as string;
  const canaries = createCanaries(databaseUrl.toString());
  const [runningCanary] = await canaries.of(running, 1);
  await until('release at 50 % on both instances', () => servedEverywhere([A, B], runningCanary!, '1.1.0'));

  if (ONLY === 'ingestion') {
    printIngestion(await measureIngestion(ingestionInstances, databaseUrl.toString()));
    await canaries.close();
    return;
  }

  const sample = await fetch(`${A}/v1/apps/${APP}/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: checkBody(runningCanary!) });
  const answer = await sample.text();
  await startChild('express-fixed', ['--import', 'tsx', 'bench/reference-servers.ts', 'express', String(expressPort), answer], {}, (l) => l === 'READY');
  await startChild('express-rampart-server', ['--import', 'tsx', 'bench/reference-servers.ts', 'express-rampart-server', String(expressOnRampartPort), answer], {}, (l) => l === 'READY');
  await startChild('bare-fixed', ['--import', 'tsx', 'bench/reference-servers.ts', 'bare', String(barePort), answer], {}, (l) => l === 'READY');
  const deviceTemplate = checkBody('__DEVICE__');

  const capgoBody = JSON.stringify({
    platform: 'android',
    device_id: '__DEVICE__',
    app_id: APP,
    custom_id: '',
    version_build: '3.1.0',
    version_code: '310',
    version_os: '14',
    version_name: 'builtin',
    plugin_version: '8.51.23',
    is_emulator: false,
    is_prod: true,
    install_source: 'google_play',
    defaultChannel: '',
  });
  const capgoAvailable = (await fetch(`${A}/updates`)).status === 200;
  const codePushPath = await codePushCheckPath(admin);

  const targets: Target[] = [
    { name: 'bare Node http, fixed JSON', url: `http://127.0.0.1:${barePort}/check`, body: deviceTemplate },
    { name: 'Express 5 route, fixed JSON', url: `http://127.0.0.1:${expressPort}/check`, body: deviceTemplate },
    { name: "Express 5 route on Rampart's server", url: `http://127.0.0.1:${expressOnRampartPort}/check`, body: deviceTemplate },
    { name: 'Rampart native check', url: `${A}/v1/apps/${APP}/check`, body: deviceTemplate },
    ...(capgoAvailable ? [{ name: 'Rampart Capgo /updates', url: `${A}/updates`, body: capgoBody }] : []),
    { name: 'Rampart CodePush update_check', url: `${A}${codePushPath}` },
  ];
  if (TARGET_FILTER) targets.splice(0, targets.length, ...targets.filter((t) => TARGET_FILTER.some((word) => t.name.includes(word))));
  for (const target of targets) await load({ url: target.url, body: target.body, durationSeconds: 5 });
  const throughput: Record<string, LoadResult[]> = {};
  // Three rounds in alternating order after a warm-up, so drift on the machine hits every target alike.
  for (const round of [0, 1, 2]) {
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      const result = await load({ url: target.url, body: target.body });
      (throughput[target.name] ??= []).push(result);
      log(`round ${round + 1}: ${target.name}: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99Ms} ms, non-2xx ${result.non2xx}`);
    }
  }

  const firstContact = await load({ url: `${A}/v1/apps/${APP}/check`, body: deviceTemplate, devices: NEW_DEVICES });
  log(`Rampart native check, every device new: ${Math.round(firstContact.requestsPerSecond)} req/s, p99 ${firstContact.p99Ms} ms`);

  const fleet = await fillFleet(A, deviceTemplate, `http://127.0.0.1:${opsPortA}/metrics`, { apiPid: apiA.pid!, databaseUrl: databaseUrl.toString() });

  const settledSeconds = await loadsSettled(`http://127.0.0.1:${opsPortA}/metrics`);
  const atRate = await measureLatency(
    targets.filter((t) => !t.name.startsWith('bare')),
    { base: A, metricsUrl: `http://127.0.0.1:${opsPortA}/metrics` },
  );

  const { ingestion, reach, stalledReach } =
    ONLY === 'checks'
      ? { ingestion: null, reach: null, stalledReach: null }
      : {
          ingestion: await measureIngestion(ingestionInstances, databaseUrl.toString()),
          reach: await measureRollbackReach(admin, A, B, canaries),
          stalledReach: await measureStalledRollbackReach(admin, A, B, databaseUrl.toString(), canaries),
        };
  await canaries.close();

  const instructions = ONLY === 'checks' ? {} : await countInstructions({ env, answer, deviceTemplate, capgoBody, capgoAvailable, codePushPath });

  const best = (name: string) => percentile((throughput[name] ?? []).map((r) => r.requestsPerSecond), 50);
  const express = best('Express 5 route, fixed JSON');
  const results = {
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version, durationSeconds: DURATION, connections: CONNECTIONS },
    throughput: Object.fromEntries(
      Object.entries(throughput).map(([name, runs]) => [
        name,
        { requestsPerSecond: Math.round(best(name)), p99Ms: percentile(runs.map((r) => r.p99Ms), 50), ratioToExpress: +(best(name) / express).toFixed(3), runs },
      ]),
    ),
    instructionsPerRequest: Object.fromEntries(
      Object.entries(instructions).map(([name, ir]) => [
        name,
        { instructions: ir, ratioToExpress: instructions['Express 5 route, fixed JSON'] ? +(instructions['Express 5 route, fixed JSON'] / ir).toFixed(3) : null },
      ]),
    ),
    firstContact: { requestsPerSecond: Math.round(firstContact.requestsPerSecond), ratioToExpress: +(firstContact.requestsPerSecond / express).toFixed(3), p99Ms: firstContact.p99Ms },
    fleet: { ...fleet, loadsSettledSeconds: settledSeconds },
    latencyAtRate: { requestsPerSecond: LATENCY_RATE, results: atRate },
    ingestion,
    reach,
    stalledReach,
  };
  await writeFile(path.join(OUT, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

  printSummary(results, { express, bare: best('bare Node http, fixed JSON'), instructions, atRate, ingestion, reach, stalledReach });
  log(
    `\nfleet: instance A saw ${fleet.devicesSeen} distinct devices before latency was measured (${fleet.requestsPerSecond} new devices/s; ` +
      `CPU per new device: instance A ${fleet.apiCpuMicrosecondsPerDevice} µs, PostgreSQL backends ${fleet.postgresCpuMicrosecondsPerDevice ?? '?'} µs); ` +
      `heap used ${mb(fleet.heapBefore.heapUsed)} → ${mb(fleet.heapAfter.heapUsed)} MB, external ${mb(fleet.heapBefore.external)} → ${mb(fleet.heapAfter.external)} MB: ` +
      `${mb(fleet.bytesPer100kDevices)} MB per 100,000 devices (heap + external)`,
  );
  log(`load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  log(`\nwritten to ${path.join(OUT, 'results.json')}`);
}

/** One scrape of an instance's metrics: the value of a series by name (after any prefix; a pattern, so a labelled one escapes its braces), NaN when absent. */
async function scrape(metricsUrl: string): Promise<(name: string) => number> {
  const text = await (await fetch(metricsUrl)).text();
  return (name) => Number(new RegExp(`^\\w*${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

/**
 * Waits until instance A has loaded the engagement of every device the fill brought (one query per
 * 1,000 new devices, one after the other, for up to a minute after a million): latency is measured
 * on the instance as it runs, not on the aftermath of a million first contacts in a few minutes —
 * which also ran on the core the reference servers share with A, and made them look slow instead.
 * Returns how long that took.
 */
async function loadsSettled(metricsUrl: string): Promise<number> {
  const started = performance.now();
  const pending = async () => {
    const value = (await scrape(metricsUrl))('rampart_device_profile_loads_pending');
    return value === 0 ? value : undefined;
  };
  await until('instance A to load the fleet\'s engagement', pending, 300_000, 500);
  const seconds = +((performance.now() - started) / 1000).toFixed(1);
  log(`instance A loaded the fleet's engagement ${seconds} s after the fill`);
  return seconds;
}

interface GcTotals {
  scavenges: number;
  scavengeMs: number;
  markCompacts: number;
  markCompactMs: number;
}

/** Instance A's GC so far, from prom-client's `nodejs_gc_duration_seconds` (scavenges are `minor`, mark-compacts `major`). */
async function gcTotals(metricsUrl: string): Promise<GcTotals> {
  const series = await scrape(metricsUrl);
  // A kind with no collection yet has no series (NaN): none happened.
  const read = (part: 'sum' | 'count', kind: 'minor' | 'major') => series(`nodejs_gc_duration_seconds_${part}\\{kind="${kind}"\\}`) || 0;
  return { scavenges: read('count', 'minor'), scavengeMs: read('sum', 'minor') * 1000, markCompacts: read('count', 'major'), markCompactMs: read('sum', 'major') * 1000 };
}

const gcBetween = (before: GcTotals, after: GcTotals): GcTotals => ({
  scavenges: after.scavenges - before.scavenges,
  scavengeMs: +(after.scavengeMs - before.scavengeMs).toFixed(1),
  markCompacts: after.markCompacts - before.markCompacts,
  markCompactMs: +(after.markCompactMs - before.markCompactMs).toFixed(1),
});

const describeGc = (gc: GcTotals) =>
  `A's GC: ${gc.scavenges} scavenges (${(gc.scavengeMs / Math.max(1, gc.scavenges)).toFixed(2)} ms each), ${gc.markCompacts} mark-compacts (${gc.markCompactMs} ms)`;

/** Latency at LATENCY_RATE in two rounds, the second in reverse order: whichever target comes first right after the fill meets its after-effects. */
async function measureLatency(targets: Target[], instanceA: { base: string; metricsUrl: string }): Promise<Record<string, RateResult[]>> {
  const atRate: Record<string, RateResult[]> = {};
  for (const round of [0, 1]) {
    for (const target of round === 0 ? targets : [...targets].reverse()) {
      const onA = target.url.startsWith(instanceA.base);
      const before = onA ? await gcTotals(instanceA.metricsUrl) : null;
      const result: RateResult = await loadAtRate({ url: target.url, body: target.body, rate: LATENCY_RATE });
      if (before) result.gc = gcBetween(before, await gcTotals(instanceA.metricsUrl));
      (atRate[target.name] ??= []).push(result);
      log(`round ${round + 1}: ${target.name} at ${LATENCY_RATE} req/s: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms${result.gc ? `; ${describeGc(result.gc)}` : ''}`);
    }
  }
  return atRate;
}

/** Instructions per request of every target under callgrind: deterministic where timings are not. */
async function countInstructions(ctx: {
  env: Record<string, string>;
  answer: string;
  deviceTemplate: string;
  capgoBody: string;
  capgoAvailable: boolean;
  codePushPath: string;
}): Promise<Record<string, number>> {
  const instructions: Record<string, number> = {};
  if (!callgrindAvailable() || process.env.BENCH_INSTRUCTIONS === '0') return instructions;
  const { env, answer, deviceTemplate, capgoBody, capgoAvailable, codePushPath } = ctx;
  log('counting instructions per request under callgrind (several minutes) …');
  const count = (url: string, body: string | undefined, seconds: number) => load({ url, body, durationSeconds: seconds, connections: 8 });
  const reference = (kind: 'bare' | 'express', port: number) => ({
    name: kind,
    args: ['--import', 'tsx', 'bench/reference-servers.ts', kind, String(port), answer],
    port,
    loads: [{ label: kind === 'bare' ? 'bare Node http, fixed JSON' : 'Express 5 route, fixed JSON', path: '/check', body: deviceTemplate }],
  });
  // One process per load: alternating request shapes in one process makes V8 re-optimise mid-count.
  // Under valgrind a server answers ~50× fewer requests, so the snapshot's 30 s safety-net reload
  // would weigh 50× more per request than in service; it is spaced out to keep the same share.
  const rampart = async (label: string, urlPath: string, body?: string) => {
    const port = await freePort();
    return {
      name: label.replace(/\W+/g, '-'),
      args: ['dist/api/main.js'],
      // Several APIs run at once: each takes an ephemeral ops port.
      env: { ...env, PORT: String(port), API_METRICS_PORT: '0', SNAPSHOT_RECONCILE_MS: String(30_000 * 50) },
      port,
      loads: [{ label, path: urlPath, body }],
    };
  };
  const targets = [
    reference('bare', await freePort()),
    reference('express', await freePort()),
    await rampart('Rampart native check', `/v1/apps/${APP}/check`, deviceTemplate),
    ...(capgoAvailable ? [await rampart('Rampart Capgo /updates', '/updates', capgoBody)] : []),
    await rampart('Rampart CodePush update_check', codePushPath),
  ];
  for (const target of targets) {
    for (const result of await measureInstructions(target, count, OUT)) {
      instructions[result.label] = result.instructionsPerRequest;
      log(`${result.label}: ${result.instructionsPerRequest} instructions/request (${result.requests} requests counted)`);
    }
  }

  return instructions;
}

/** The update_check URL path of the code-push SDK for the production channel's deployment key; `__DEVICE__` is the client id. */
async function codePushCheckPath(admin: RampartClient): Promise<string> {
  const { channels } = await admin.get<{ channels: Array<{ name: string; deploymentKey: string }> }>(`/v1/apps/${APP}/channels`);
  const key = channels.find((c) => c.name === 'production')!.deploymentKey;
  return `/v0.1/public/codepush/update_check?deployment_key=${encodeURIComponent(key)}&app_version=3.1.0&package_hash=&label=&client_unique_id=__DEVICE__`;
}

interface HeapReading {
  heapUsed: number;
  external: number;
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/**
 * Heap and external memory of the instance after a full GC: it writes a heap snapshot (which collects
 * first) on SIGUSR2 into .data/bench/heap, blocking while it does, so the next reading of its metrics is
 * live data only — without it, garbage the fill promoted counted as memory per device until V8 chose
 * to compact. Then the lowest of 5 readings 2 s apart. The snapshots are kept to see what is live.
 */
async function readHeap(metricsUrl: string, pid: number): Promise<HeapReading> {
  process.kill(pid, 'SIGUSR2');
  const readings: HeapReading[] = [];
  for (let i = 0; i < 5; i++) {
    const value = await scrape(metricsUrl);
    readings.push({ heapUsed: value('nodejs_heap_size_used_bytes'), external: value('nodejs_external_memory_bytes') });
    await new Promise((r) => setTimeout(r, 2000));
  }
  return { heapUsed: Math.min(...readings.map((r) => r.heapUsed)), external: Math.min(...readings.map((r) => r.external)) };
}

/**
 * Brings the instance to FLEET_DEVICES distinct devices, each checking once (closed loop, every device
 * new), and reads its memory before and after.
 */
async function fillFleet(base: string, body: string, metricsUrl: string, measured: { apiPid: number; databaseUrl: string }) {
  const heapBefore = await readHeap(metricsUrl, measured.apiPid);
  const db = new pg.Client({ connectionString: measured.databaseUrl });
  await db.connect();
  const apiCpuBefore = processCpuMs(measured.apiPid) ?? Number.NaN;
  const postgresCpuBefore = await backendCpuMs(db);
  let devicesSeen = 0;
  const started = performance.now();
  while (devicesSeen < FLEET_DEVICES) {
    // Long loads of a set number of checks: a load generator started every 30 s left the instance idle
    // while it started (tsx compiling it on a loaded machine took seconds).
    const amount = Math.min(FILL_STEP, FLEET_DEVICES - devicesSeen);
    const r = await load({ url: `${base}/v1/apps/${APP}/check`, body, durationSeconds: 1800, amount, devices: NEW_DEVICES, firstDevice: FLEET_FIRST_DEVICE + devicesSeen });
    const answered = r.statusCodes['200'] ?? 0;
    if (answered === 0) throw new Error(`fleet fill: no check answered 200 (${JSON.stringify(r.statusCodes)})`);
    devicesSeen += answered;
    log(`fleet fill: ${devicesSeen} devices (${Math.round(r.requestsPerSecond)} req/s, non-2xx ${r.non2xx})`);
  }
  const requestsPerSecond = Math.round(devicesSeen / ((performance.now() - started) / 1000));
  // Where the fill's time goes however loaded the machine: CPU of the instance and of PostgreSQL per device.
  const apiCpuMicrosecondsPerDevice = Math.round((((processCpuMs(measured.apiPid) ?? Number.NaN) - apiCpuBefore) * 1000) / devicesSeen);
  const postgresCpuAfter = await backendCpuMs(db);
  await db.end();
  let postgresCpuMicrosecondsPerDevice: number | null = null;
  if (postgresCpuBefore && postgresCpuAfter) {
    const ms = [...postgresCpuAfter].reduce((sum, [pid, used]) => sum + used - (postgresCpuBefore.get(pid) ?? 0), 0);
    postgresCpuMicrosecondsPerDevice = Math.round((ms * 1000) / devicesSeen);
  }
  const heapAfter = await readHeap(metricsUrl, measured.apiPid);
  const grown = heapAfter.heapUsed + heapAfter.external - heapBefore.heapUsed - heapBefore.external;
  return { devicesSeen, requestsPerSecond, apiCpuMicrosecondsPerDevice, postgresCpuMicrosecondsPerDevice, heapBefore, heapAfter, bytesPer100kDevices: Math.round((grown / devicesSeen) * 100_000) };
}

function printSummary(
  results: { throughput: Record<string, { requestsPerSecond: number; ratioToExpress: number; p99Ms: number }>; firstContact: { requestsPerSecond: number; ratioToExpress: number }; instructionsPerRequest: Record<string, { instructions: number; ratioToExpress: number | null }> },
  measured: {
    express: number;
    bare: number;
    instructions: Record<string, number>;
    atRate: Record<string, RateResult[]>;
    /** null: not measured (`--only checks`). */
    ingestion: Awaited<ReturnType<typeof measureIngestion>> | null;
    reach: Awaited<ReturnType<typeof measureRollbackReach>> | null;
    stalledReach: Awaited<ReturnType<typeof measureStalledRollbackReach>> | null;
  },
): void {
  const { express, instructions, atRate, ingestion, reach, stalledReach } = measured;
  log('\n== throughput (median of 3 rounds) ==');
  for (const [name, r] of Object.entries(results.throughput)) {
    log(`${name.padEnd(30)} ${String(r.requestsPerSecond).padStart(7)} req/s   ${r.ratioToExpress.toFixed(2)} × Express   p99 ${r.p99Ms} ms`);
  }
  log(`Express / bare: ${(express / measured.bare).toFixed(2)}`);
  log(`Rampart native check, every device new (profiles written and loaded): ${results.firstContact.requestsPerSecond} req/s, ${results.firstContact.ratioToExpress.toFixed(2)} × Express`);
  if (Object.keys(instructions).length > 0) {
    log('\n== instructions per request under callgrind (deterministic; ratio = Express ÷ target, as for throughput) ==');
    for (const [name, r] of Object.entries(results.instructionsPerRequest)) log(`${name.padEnd(30)} ${String(r.instructions).padStart(9)}   ${r.ratioToExpress?.toFixed(2)} × Express`);
  }
  log(`\n== latency at ${LATENCY_RATE} requests/s, open loop (counted from when each request was due) ==`);
  for (const round of [0, 1]) {
    const expressP99 = atRate['Express 5 route, fixed JSON']?.[round]?.p99Ms;
    for (const [name, rounds] of Object.entries(atRate)) {
      const r = rounds[round]!;
      const ratio = expressP99 ? ` = ${(r.p99Ms / expressP99).toFixed(2)} × Express's` : '';
      log(
        `round ${round + 1}: ${name.padEnd(30)} p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms${ratio}, p99.9 ${r.p999Ms} ms, max ${r.maxMs} ms (${r.achievedRate} req/s achieved, non-2xx ${r.non2xx}, errors ${r.errors})${r.gc ? `; ${describeGc(r.gc)}` : ''}`,
      );
    }
  }
  if (ingestion) printIngestion(ingestion);
  if (reach) {
    log('\n== rollback reach (command sent → both API instances answer "rollback") ==');
    log(`update acknowledged: median ${reach.ackMs.median} ms, p90 ${reach.ackMs.p90} ms; all instances switched: median ${reach.switchMs.median} ms, p90 ${reach.switchMs.p90} ms, max ${reach.switchMs.max} ms (n=${reach.samples})`);
  }
  if (stalledReach) {
    log(`\n== rollback reach with a gate read stalled ${STALL_SECONDS} s (table lock) and a webhook receiver that never answers ==`);
    log(
      `update acknowledged: p50 ${stalledReach.ackMs.median} ms, p99 ${stalledReach.ackMs.p99} ms; all instances switched: p50 ${stalledReach.switchMs.median} ms, p99 ${stalledReach.switchMs.p99} ms, max ${stalledReach.switchMs.max} ms (n=${stalledReach.samples}; every rollback answered while the read was held: ${stalledReach.allBeforeStallEnded})`,
    );
  }
}

function printIngestion(ingestion: Awaited<ReturnType<typeof measureIngestion>>): void {
  log('\n== durable ingestion, native /events, 20 events per request (median of 3 rounds) ==');
  log(`rollups on ${ingestion.median.rollupsOn} events/s, rollups off ${ingestion.median.rollupsOff} events/s: ${ingestion.ratio.toFixed(2)} × (target ≥ 0.8 and ≥ 25,000 events/s)`);
}

/** Finds devices in a release's canary cohort; the bucket salt is a secret the API never shows, so it is read where the service keeps it. */
interface Canaries {
  /** Devices whose buckets put them in the canary cohort of the release at 50 %. */
  of(releaseId: string, count: number): Promise<string[]>;
  close(): Promise<void>;
}

function createCanaries(databaseUrl: string): Canaries {
  const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  return {
    async of(releaseId, count) {
      const { rows } = await db.query<{ bucket_salt: string }>('SELECT r.bucket_salt FROM releases r WHERE r.id = $1', [releaseId]);
      const salt = rows[0]!.bucket_salt;
      const ids: string[] = [];
      for (let i = 0; ids.length < count; i++) {
        const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
        if (bucketOf(salt, id) < 5000) ids.push(id);
      }
      return ids;
    },
    close: () => db.end(),
  };
}

/** One device's report: a session with its end, a few features, an install, a crash and a JS error now and then. */
function eventsBody(perRequest: number): string {
  const now = new Date().toISOString();
  const event = (i: number) => {
    const base = { at: now, bundleVersion: '1.1.0' };
    switch (i % 10) {
      case 0:
        return { ...base, type: 'crash' };
      case 1:
        return { ...base, type: 'session_end', durationMs: 45_000 + i * 1000 };
      case 2:
      case 3:
      case 4:
        return { ...base, type: 'feature_used', feature: `feature-${i % 7}` };
      case 5:
        return { ...base, type: i % 20 === 5 ? 'install_ok' : 'js_error', ...(i % 20 === 5 ? { durationMs: 2500 } : {}) };
      default:
        return { ...base, type: 'session_start' };
    }
  };
  return JSON.stringify({ deviceId: '__DEVICE__', platform: 'android', nativeVersion: '3.1.0', events: Array.from({ length: perRequest }, (_, i) => event(i)) });
}

interface IngestionResult {
  eventsPerSecond: number;
  /** Events per group-committed write: how well the instance batched. */
  eventsPerWrite: number | null;
  /** Mean time of one write, from the instance's start of it to PostgreSQL's answer. */
  msPerWrite: number | null;
  acknowledged: number;
  durable: number;
  /** CPU PostgreSQL's backends of the bench database spent per 1,000 durable events: what the writes cost, however loaded the machine. */
  postgresCpuMsPer1000: number | null;
}


interface WritesSoFar {
  events: number;
  writes: number;
  seconds: number;
}

/** Events, group-committed writes and the seconds they took, of an instance so far, from its metrics. */
async function writesSoFar(metricsUrl: string): Promise<WritesSoFar> {
  const value = await scrape(metricsUrl);
  return { events: value('rampart_telemetry_batch_events_sum'), writes: value('rampart_telemetry_batch_events_count'), seconds: value('rampart_telemetry_flush_seconds_sum') };
}

/** Events per write and the mean time of one, between two readings (null: no write). */
function writesBetween(before: WritesSoFar, after: WritesSoFar): Pick<IngestionResult, 'eventsPerWrite' | 'msPerWrite'> {
  const writes = after.writes - before.writes;
  if (!(writes > 0)) return { eventsPerWrite: null, msPerWrite: null };
  return { eventsPerWrite: Math.round((after.events - before.events) / writes), msPerWrite: +(((after.seconds - before.seconds) * 1000) / writes).toFixed(1) };
}

/**
 * Durable ingestion on an instance that keeps the insight rollups and on one of the same build with
 * them off (RAMPART_INSIGHT_ROLLUPS=false), alternating, into the same database.
 */
async function measureIngestion(instances: Record<'rollupsOn' | 'rollupsOff', { url: string; metricsUrl: string }>, databaseUrl: string): Promise<{ rounds: Array<Record<keyof typeof instances, IngestionResult>>; ratio: number; median: Record<keyof typeof instances, number> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const count = async () => Number((await client.query<{ n: string }>('SELECT coalesce(sum(cardinality(r.types)), 0) AS n FROM device_reports r')).rows[0]!.n);
  const perRequest = 20;
  const body = eventsBody(perRequest);
  const rounds: Array<Record<keyof typeof instances, IngestionResult>> = [];
  try {
    // A warm-up of each, as for the checks: compiled code, connections, the devices' first memberships in the rollups.
    for (const { url } of Object.values(instances)) await load({ url: `${url}/v1/apps/${APP}/events`, body, durationSeconds: 5 });
    for (const round of [0, 1, 2]) {
      const order: Array<keyof typeof instances> = round % 2 === 0 ? ['rollupsOn', 'rollupsOff'] : ['rollupsOff', 'rollupsOn'];
      const results = {} as Record<keyof typeof instances, IngestionResult>;
      for (const name of order) {
        const before = await count();
        const cpuBefore = await backendCpuMs(client);
        const writesBefore = await writesSoFar(instances[name].metricsUrl);
        const r = await load({ url: `${instances[name].url}/v1/apps/${APP}/events`, body });
        const { eventsPerWrite, msPerWrite } = writesBetween(writesBefore, await writesSoFar(instances[name].metricsUrl));
        const cpuAfter = await backendCpuMs(client);
        const durable = (await count()) - before;
        let cpu: number | null = null;
        if (cpuBefore && cpuAfter) cpu = [...cpuAfter].reduce((sum, [pid, ms]) => sum + ms - (cpuBefore.get(pid) ?? 0), 0);
        const postgresCpuMsPer1000 = cpu === null || durable === 0 ? null : +((cpu * 1000) / durable).toFixed(1);
        results[name] = { eventsPerSecond: Math.round(durable / DURATION), eventsPerWrite, msPerWrite, acknowledged: (r.statusCodes['202'] ?? 0) * perRequest, durable, postgresCpuMsPer1000 };
        log(
          `round ${round + 1}: events with rollups ${name === 'rollupsOn' ? 'on' : 'off'}: ${results[name].eventsPerSecond} events/s durable, p99 ${r.p99Ms} ms, ${eventsPerWrite ?? '?'} events per write taking ${msPerWrite ?? '?'} ms, PostgreSQL CPU ${postgresCpuMsPer1000 ?? '?'} ms per 1,000 events`,
        );
      }
      rounds.push(results);
    }
  } finally {
    await client.end();
  }
  const median = {
    rollupsOn: percentile(rounds.map((r) => r.rollupsOn.eventsPerSecond), 50),
    rollupsOff: percentile(rounds.map((r) => r.rollupsOff.eventsPerSecond), 50),
  };
  return { rounds, median, ratio: +(median.rollupsOn / median.rollupsOff).toFixed(3) };
}

async function measureRollbackReach(admin: RampartClient, A: string, B: string, canaries: Canaries): Promise<{ samples: number; ackMs: Stats; switchMs: Stats }> {
  const acks: number[] = [];
  const switches: number[] = [];
  const plan = { stages: [{ exposureBps: 5000, minSoakMs: 3_600_000, checkIntervalMs: 60_000, gates: [] }, { exposureBps: 10_000, minSoakMs: 1000, gates: [] }] };
  for (let i = 0; i < 15; i++) {
    const version = `2.0.${i}`;
    await admin.post(`/v1/apps/${APP}/bundles`, { version, url: `https://cdn.example.com/${version}.zip`, sha256: 'cd'.repeat(32), size: 1000 });
    const id = (await admin.post(`/v1/apps/${APP}/releases`, { version, plan, supersede: true })).id as string;
    // Poll as many different devices: one device asking every 2 ms would hit its own rate limit.
    const pollers = await canaries.of(id, 4000);
    await until('release served on both instances', () => servedEverywhere([A, B], pollers[0]!, version));
    let next = 0;
    const started = performance.now();
    const ack = admin.post(`/v1/releases/${id}/rollback`, { reason: 'bench' }).then(() => performance.now() - started);
    const seen = await Promise.all(
      [A, B].map((base) =>
        until('rollback answer', async () => ((await deviceAnswer(base, pollers[next++ % pollers.length]!, version)).action === 'rollback' ? performance.now() - started : undefined), 30_000, 2),
      ),
    );
    acks.push(await ack);
    switches.push(Math.max(...seen));
  }
  return { samples: acks.length, ackMs: stats(acks), switchMs: stats(switches) };
}

const STALL_SECONDS = Number(process.env.BENCH_STALL_SECONDS ?? 20);
const STALL_SAMPLES = Number(process.env.BENCH_STALL_SAMPLES ?? 10);

/**
 * Commands first, measured: each sample holds an ACCESS EXCLUSIVE lock on the table gate reads
 * query (as a long migration or VACUUM FULL would) until a gate read of the release waits on it,
 * sends the rollback, and keeps the lock STALL_SECONDS in all. The app's webhook receiver accepts
 * connections and never answers. Reach must not depend on either.
 */
async function measureStalledRollbackReach(
  admin: RampartClient,
  A: string,
  B: string,
  databaseUrl: string,
  canaries: Canaries,
): Promise<{ samples: number; ackMs: Stats; switchMs: Stats; allBeforeStallEnded: boolean }> {
  const silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  await admin.post(`/v1/apps/${APP}/webhooks`, { url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/never-answers` });
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const acks: number[] = [];
  const switches: number[] = [];
  let allBeforeStallEnded = true;
  // Gate reads every 200 ms, so one is always about to start when the lock is taken.
  const plan = { stages: [{ exposureBps: 5000, minSoakMs: 3_600_000, checkIntervalMs: 200, gates: [] }, { exposureBps: 10_000, minSoakMs: 1000, gates: [] }] };
  try {
    for (let i = 0; i < STALL_SAMPLES; i++) {
      const version = `2.1.${i}`;
      await admin.post(`/v1/apps/${APP}/bundles`, { version, url: `https://cdn.example.com/${version}.zip`, sha256: 'ef'.repeat(32), size: 1000 });
      const id = (await admin.post(`/v1/apps/${APP}/releases`, { version, plan, supersede: true })).id as string;
      const pollers = await canaries.of(id, 4000);
      await until('release served on both instances', () => servedEverywhere([A, B], pollers[0]!, version));
      const locker = await db.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE release_device_windows IN ACCESS EXCLUSIVE MODE');
        const stallStarted = performance.now();
        await until(
          'a gate read waiting on the lock',
          async () => {
            const { rows } = await db.query<{ n: number }>(
              "SELECT count(*)::int AS n FROM pg_locks l WHERE NOT l.granted AND l.relation = 'release_device_windows'::regclass",
            );
            return rows[0]!.n > 0 ? true : undefined;
          },
          10_000,
          20,
        );
        let next = 0;
        const started = performance.now();
        const ack = admin.post(`/v1/releases/${id}/rollback`, { reason: 'bench, gate read stalled' }).then(() => performance.now() - started);
        const seen = await Promise.all(
          [A, B].map((base) =>
            until('rollback answer', async () => ((await deviceAnswer(base, pollers[next++ % pollers.length]!, version)).action === 'rollback' ? performance.now() - started : undefined), 30_000, 2),
          ),
        );
        acks.push(await ack);
        switches.push(Math.max(...seen));
        const held = performance.now() - stallStarted;
        if (held >= STALL_SECONDS * 1000) allBeforeStallEnded = false;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, STALL_SECONDS * 1000 - held)));
      } finally {
        await locker.query('ROLLBACK');
        locker.release();
      }
    }
  } finally {
    await db.end();
    silent.closeAllConnections();
    silent.close();
  }
  return { samples: acks.length, ackMs: stats(acks), switchMs: stats(switches), allBeforeStallEnded };
}

interface Stats {
  median: number;
  p90: number;
  p99: number;
  max: number;
}

function stats(values: number[]): Stats {
  return { median: Math.round(percentile(values, 50)), p90: Math.round(percentile(values, 90)), p99: Math.round(percentile(values, 99)), max: Math.round(Math.max(...values)) };
}

async function stopEverything(): Promise<void> {
  for (const child of children) child.kill('SIGTERM');
  await temporal?.stop();
}

// Ctrl-C must not leave servers, workers and a dev server behind.
process.once('SIGINT', () => {
  void stopEverything().finally(() => process.exit(130));
});

main()
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(stopEverything);
