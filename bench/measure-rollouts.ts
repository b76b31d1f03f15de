import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createApi } from '../api/create-api';
import { ApiError, createRampartClient } from '../cli/rampart-client';
import type { Pool } from '../db/create-pool';
import { newSigningKeyPair } from '../platform/answer-signing';
import { loadApiConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { newSecretsKey } from '../platform/secret-box';
import { findTemporalCli, freePort, startTemporalDevServer } from '../platform/temporal-dev-server';
import { waitFor } from '../scripts/support/until';

/*
 * The rollouts dimension of `npm run bench:scale`: N releases live at once on one worker, one per
 * channel, each baking a long first stage with the default gates read every few seconds — what a
 * worker does all day. The worker runs alone in a child process, so the CPU it is charged with is its
 * own (the API that starts the releases and the Temporal dev server are elsewhere). Over a fixed
 * window it reports the worker's cores used, each release's Temporal history length and how fast it
 * grows, and from that how often a release continues as new.
 */

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const WINDOW_SECONDS = Number(process.env.BENCH_SCALE_ROLLOUT_SECONDS ?? 60);
const CHECK_INTERVAL_MS = 5000;
const CHANNELS_PER_APP = 10;
const ADMIN_KEY = 'bench-scale-rollouts-admin-key';
const TASK_QUEUE = 'bench-scale-rollouts';
/**
 * Temporal's default history length at which it suggests continue-as-new, set explicitly so the
 * cadence computed from it rests on a known number.
 */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 4096;
/** Requests the API is asked at once while starting releases and describing workflows. */
const PARALLEL = 8;
/** Long enough that no release leaves its first stage during a run, however slow the machine. */
const BAKE_MS = 6 * 3_600_000;
const PLAN = {
  // Gates left out: the default set, read every check interval, as a real release runs.
  stages: [
    { exposureBps: 1000, minSoakMs: BAKE_MS, checkIntervalMs: CHECK_INTERVAL_MS },
    { exposureBps: 10_000, minSoakMs: 1000, checkIntervalMs: CHECK_INTERVAL_MS },
  ],
};

export interface RolloutStep {
  rollouts: number;
  /** Seconds from the first start request until every release published its first stage. */
  startSeconds: number;
  windowSeconds: number;
  /** Worker CPU time over the window divided by the window: cores the worker used. */
  workerCores: number;
  /** Gate reads the worker did in the window, from its own metrics. */
  gateReads: number;
  /** Worker CPU per gate read: what a release costs at any check interval (the default is 15 minutes). */
  cpuMsPerGateRead: number;
  /** Gate verdicts in the window by kind: every release must still be baking, not halted. */
  verdicts: Record<string, number>;
  workerRssMb: number;
  historyP50: number;
  historyMax: number;
  /** History events a release adds per minute, over releases that did not continue as new in the window. */
  eventsPerReleaseMinute: number;
  continuedAsNewInWindow: number;
  /** Minutes a release runs between continue-as-new at CONTINUE_AS_NEW_AFTER_EVENTS, from the growth rate. */
  minutesPerContinueAsNew: number;
  loadAverage: number;
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `work` over `items` with at most PARALLEL in flight. */
async function eachParallel<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!);
      }
    }),
  );
  return out;
}

/** Apps of CHANNELS_PER_APP channels each, a bundle per app: `rollouts` channels in all. */
async function seedChannels(pool: Pool, rollouts: number): Promise<Array<{ appId: string; channel: string }>> {
  await pool.query('TRUNCATE apps CASCADE');
  const apps = Math.ceil(rollouts / CHANNELS_PER_APP);
  const key = newSigningKeyPair();
  await pool.query(`INSERT INTO apps (id, name) SELECT 'com.example.rollout' || g, 'Rollout app ' || g FROM generate_series(1, $1) g`, [apps]);
  await pool.query(
    `INSERT INTO app_signing_keys (id, app_id, public_key, private_key) SELECT 'key-' || a.id, a.id, $1, $2 FROM apps a`,
    [key.publicKey, key.privateKeyPem],
  );
  await pool.query(
    `INSERT INTO bundles (app_id, version, url, sha256, size, platforms, native_range)
     SELECT a.id, '2.0.0', 'https://cdn.example.com/' || a.id || '/2.0.0.zip', repeat('ab', 32), 2345678, '{ios,android}', '>=3.0.0' FROM apps a`,
  );
  const { rows } = await pool.query<{ app_id: string; name: string }>(
    `INSERT INTO channels (app_id, name, public, allow_self_assign, platforms, deployment_key)
     SELECT 'com.example.rollout' || (1 + g / $2), 'channel' || (g % $2), false, false, '{ios,android}', 'rollout-' || g
     FROM generate_series(0, $1 - 1) g
     RETURNING app_id, name`,
    [rollouts, CHANNELS_PER_APP],
  );
  await pool.query('ANALYZE');
  return rows.map((r) => ({ appId: r.app_id, channel: r.name }));
}

/** utime + stime of a process, in milliseconds. */
async function processCpuMs(pid: number, ticksPerSecond: number): Promise<number> {
  // Fields after the command name (which is in parentheses and may hold spaces): utime and stime are the 12th and 13th.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

async function processRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 102.4) / 10;
}

/** The worker's gate verdicts so far, by verdict, from its metrics endpoint. */
async function gateVerdicts(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const out: Record<string, number> = {};
  for (const match of text.matchAll(/^rampart_gate_verdicts_total\{verdict="([^"]+)"\} (\S+)$/gm)) out[match[1]!] = Number(match[2]);
  return out;
}

async function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'worker/main.ts')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const onLine = (line: string) => {
      if (line.includes('worker started')) resolve(child);
      // Warnings and errors (pino levels 40 and up) say why a step misbehaves; the rest is noise here.
      else if (/"level":(4|5|6)0/.test(line)) process.stderr.write(`[worker] ${line}\n`);
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready`)));
  });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Starts a release, again after a refusal for load (429/503): the bench measures running, not starting. */
async function startRelease(admin: ReturnType<typeof createRampartClient>, target: { appId: string; channel: string }): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.post(`/v1/apps/${target.appId}/releases`, { version: '2.0.0', channel: target.channel, plan: PLAN });
      return;
    } catch (err) {
      if (!(err instanceof ApiError) || ![429, 503].includes(err.status) || attempt >= 20) throw err;
      await sleep(250 * (attempt + 1));
    }
  }
}

export async function measureRollouts(databaseUrl: string, pool: Pool, rollouts: number): Promise<RolloutStep> {
  const targets = await seedChannels(pool, rollouts);
  const { stdout: ticks } = await run('getconf', ['CLK_TCK']);
  const ticksPerSecond = Number(ticks.trim()) || 100;
  const temporalServer = await startTemporalDevServer({
    cliPath: await findTemporalCli(),
    port: await freePort(),
    logFile: path.join(ROOT, '.data/bench/temporal-scale-rollouts.log'),
    suggestContinueAsNewAfter: CONTINUE_AS_NEW_AFTER_EVENTS,
  });
  const secretsKey = newSecretsKey();
  let worker: ChildProcess | null = null;
  const connection = await Connection.connect({ address: temporalServer.address });
  const temporal = new Client({ connection });
  const config = loadApiConfig({ DATABASE_URL: databaseUrl, RAMPART_SECRETS_KEY: secretsKey.toString('base64'), LOG_LEVEL: 'warn' });
  const api = createApi({ pool, databaseUrl, temporal, taskQueue: TASK_QUEUE, logger: createLogger('bench-scale-rollouts', 'warn'), tuning: config.tuning, secretsKey });
  let server: Server | null = null;
  let apiStarted = false;
  try {
    const metricsPort = await freePort();
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    worker = await startWorker({
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalServer.address,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      RAMPART_SECRETS_KEY: secretsKey.toString('base64'),
      WORKER_METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'info',
    });
    const pid = worker.pid!;
    await api.deps.apiKeys.bootstrap(ADMIN_KEY);
    await api.start();
    apiStarted = true;
    server = api.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server!.once('listening', resolve));
    const admin = createRampartClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, ADMIN_KEY);

    const started = performance.now();
    await eachParallel(targets, (target) => startRelease(admin, target));
    await waitFor(
      `${rollouts} releases publishing their first stage`,
      async () => Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM rollout_state WHERE status = 'running'`)).rows[0]!.n),
      (running) => running >= rollouts,
      { timeoutMs: 30 * 60_000, everyMs: 500 },
    );
    const startSeconds = (performance.now() - started) / 1000;
    // Two check intervals: every release is past its first gate read and in its steady loop.
    await sleep(2 * CHECK_INTERVAL_MS);

    const { rows } = await pool.query<{ workflow_id: string }>('SELECT workflow_id FROM releases');
    const ids = rows.map((r) => r.workflow_id);
    const describeAll = () => eachParallel(ids, (id) => temporal.workflow.getHandle(id).describe());
    const continuedAsNew = async () => (await temporal.workflow.count(`ExecutionStatus = 'ContinuedAsNew'`)).count;
    const before = await describeAll();
    const canBefore = await continuedAsNew();
    const verdictsBefore = await gateVerdicts(metricsUrl);
    const cpuBefore = await processCpuMs(pid, ticksPerSecond);
    const t0 = performance.now();
    await sleep(WINDOW_SECONDS * 1000);
    const cpuMs = (await processCpuMs(pid, ticksPerSecond)) - cpuBefore;
    const wallMs = performance.now() - t0;
    const verdictsAfter = await gateVerdicts(metricsUrl);
    const verdicts = Object.fromEntries(Object.entries(verdictsAfter).map(([k, v]) => [k, v - (verdictsBefore[k] ?? 0)]));
    const gateReads = Object.values(verdicts).reduce((a, b) => a + b, 0);
    const workerRssMb = await processRssMb(pid);
    const after = await describeAll();
    const canInWindow = (await continuedAsNew()) - canBefore;

    const growth: number[] = [];
    after.forEach((d, i) => {
      if (d.runId === before[i]!.runId) growth.push(d.historyLength - before[i]!.historyLength);
    });
    const eventsPerReleaseMinute = growth.length ? growth.reduce((a, b) => a + b, 0) / growth.length / (wallMs / 60_000) : 0;
    const lengths = after.map((d) => d.historyLength).sort((a, b) => a - b);
    return {
      rollouts,
      startSeconds: Math.round(startSeconds * 10) / 10,
      windowSeconds: Math.round(wallMs / 1000),
      workerCores: Math.round((cpuMs / wallMs) * 1000) / 1000,
      gateReads,
      cpuMsPerGateRead: gateReads > 0 ? Math.round((cpuMs / gateReads) * 100) / 100 : NaN,
      verdicts,
      workerRssMb,
      historyP50: lengths[Math.floor(lengths.length / 2)]!,
      historyMax: lengths[lengths.length - 1]!,
      eventsPerReleaseMinute: Math.round(eventsPerReleaseMinute * 10) / 10,
      continuedAsNewInWindow: Number(canInWindow),
      minutesPerContinueAsNew: eventsPerReleaseMinute > 0 ? Math.round(CONTINUE_AS_NEW_AFTER_EVENTS / eventsPerReleaseMinute) : Infinity,
      loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    };
  } finally {
    if (server) {
      server.close();
      server.closeAllConnections();
    }
    if (apiStarted) await api.stop();
    if (worker) await stopWorker(worker);
    await connection.close();
    await temporalServer.stop();
    await pool.query('TRUNCATE apps CASCADE');
  }
}

/** The steps side by side, each against the one before it, and the per-rollout cost that extrapolates them. */
export function rolloutTable(steps: RolloutStep[], extrapolateTo: number): string {
  const head = '| live rollouts | start s | worker cores | × prev | cores per 1,000 rollouts | gate reads | CPU ms per gate read | worker RSS MB | history p50 | history max | events/release/min | continue-as-new in window | minutes per continue-as-new | load avg |';
  const lines = [head, `|${head.split('|').slice(1, -1).map(() => '---').join('|')}|`];
  steps.forEach((s, i) => {
    const prev = steps[i - 1];
    const ratio = prev ? `${(s.workerCores / Math.max(1e-9, prev.workerCores)).toFixed(2)}× (for ${s.rollouts / prev.rollouts}× rollouts)` : '';
    lines.push(
      `| ${s.rollouts} | ${s.startSeconds} | ${s.workerCores} | ${ratio} | ${((s.workerCores / s.rollouts) * 1000).toFixed(2)} | ${s.gateReads} | ${s.cpuMsPerGateRead} | ${s.workerRssMb} | ${s.historyP50} | ${s.historyMax} | ${s.eventsPerReleaseMinute} | ${s.continuedAsNewInWindow} | ${s.minutesPerContinueAsNew} | ${s.loadAverage} |`,
    );
  });
  const last = steps[steps.length - 1];
  const prev = steps[steps.length - 2];
  if (last && prev && last.rollouts < extrapolateTo) {
    // The worker's idle cost (pollers, reconciler, outbox drainer) is fixed: only the marginal cost scales.
    const marginal = (last.workerCores - prev.workerCores) / (last.rollouts - prev.rollouts);
    const estimate = last.workerCores + marginal * (extrapolateTo - last.rollouts);
    lines.push(
      `\nEXTRAPOLATED, not measured: ${extrapolateTo} rollouts ≈ ${estimate.toFixed(3)} cores (${last.workerCores} at ${last.rollouts} + ${(marginal * 1000).toFixed(3)} cores per 1,000 more, the marginal cost between the last two steps)`,
    );
  }
  return lines.join('\n');
}

export function logRolloutStep(step: RolloutStep): void {
  log(
    `rollouts:${step.rollouts} worker ${step.workerCores} cores, history p50 ${step.historyP50} (+${step.eventsPerReleaseMinute}/min, continue-as-new every ~${step.minutesPerContinueAsNew} min), started in ${step.startSeconds} s, gate verdicts ${JSON.stringify(step.verdicts)} (load average ${step.loadAverage})`,
  );
}
