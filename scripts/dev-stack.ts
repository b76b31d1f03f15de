import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { DEFAULT_DATABASE_URL } from '../platform/config';
import { newSecret } from '../platform/ids';
import { startTemporalDevServer, type DevServer } from '../platform/temporal-dev-server';

/*
 * The one-command local stack behind `npm start`: a Temporal dev server (SQLite under .data/),
 * PostgreSQL (DATABASE_URL, else the local server, else an embedded one), the worker and the API.
 * Ctrl-C stops everything in reverse order.
 */

const ROOT = path.resolve(__dirname, '..');
const DATA = path.resolve(process.env.RAMPART_DATA_DIR ?? path.join(ROOT, '.data'));
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const API_PORT = Number(process.env.PORT ?? 8080);
const TEMPORAL_PORT = Number(process.env.TEMPORAL_PORT ?? 7233);
const TEMPORAL_UI_PORT = Number(process.env.TEMPORAL_UI_PORT ?? TEMPORAL_PORT + 1000);
const WORKER_METRICS_PORT = Number(process.env.WORKER_METRICS_PORT ?? 9464);
const EMBEDDED_PG_PORT = Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54329);

const say = (line: string) => process.stdout.write(`[rampart] ${line}\n`);
/** Each start-up step says when it is done and how long it took: a slow start then names its step. */
const timed = async <T>(step: string, run: () => Promise<T>): Promise<T> => {
  const started = Date.now();
  const result = await run();
  say(`${step} ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
};

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

const running: Stoppable[] = [];
let shuttingDown = false;

async function reachable(url: string): Promise<boolean> {
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function startPostgres(): Promise<string> {
  if (process.env.DATABASE_URL) {
    say(`PostgreSQL: using DATABASE_URL`);
    return process.env.DATABASE_URL;
  }
  if (process.env.RAMPART_EMBEDDED_POSTGRES !== '1' && (await reachable(DEFAULT_DATABASE_URL))) {
    say(`PostgreSQL: using the local server at ${DEFAULT_DATABASE_URL}`);
    return DEFAULT_DATABASE_URL;
  }
  say(`PostgreSQL: none reachable, starting an embedded one (data in ${path.join(DATA, 'postgres')})`);
  const child = spawn(TSX, [path.join(ROOT, 'scripts/embedded-postgres.ts'), path.join(DATA, 'postgres'), String(EMBEDDED_PG_PORT)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  createInterface({ input: child.stderr }).on('line', (line) => process.stdout.write(`[postgres] ${line}\n`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  running.push({ name: 'PostgreSQL', stop: () => stopChild(child, exited) });
  return new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('READY ')) resolve(line.slice('READY '.length));
    });
    void exited.then(() => reject(new Error('embedded PostgreSQL exited during start-up')));
  });
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function startTemporal(): Promise<DevServer | string> {
  if (process.env.TEMPORAL_ADDRESS) {
    say(`Temporal: using TEMPORAL_ADDRESS=${process.env.TEMPORAL_ADDRESS}`);
    return process.env.TEMPORAL_ADDRESS;
  }
  const cliPath = process.env.TEMPORAL_CLI_PATH;
  if (!cliPath) throw new Error('TEMPORAL_CLI_PATH is not set; run through `npm start`, which finds or builds the CLI');
  say(`Temporal: starting a dev server on port ${TEMPORAL_PORT}`);
  const server = await startTemporalDevServer({
    cliPath,
    port: TEMPORAL_PORT,
    uiPort: TEMPORAL_UI_PORT,
    dbFilename: path.join(DATA, 'temporal.sqlite'),
    logFile: path.join(DATA, 'temporal.log'),
    detached: true,
  });
  running.push({ name: 'Temporal dev server', stop: () => server.stop() });
  return server;
}

async function adminKey(): Promise<string> {
  if (process.env.RAMPART_ADMIN_KEY) return process.env.RAMPART_ADMIN_KEY;
  const file = path.join(DATA, 'admin-key');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const key = newSecret('rk_');
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return key;
}

/** Runs one of our processes in its own process group, prefixing its output, and waits until it is ready. */
async function startProcess(name: string, entry: string, env: NodeJS.ProcessEnv, readyUrl: string): Promise<void> {
  const child: ChildProcess = spawn(TSX, [path.join(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
  }
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  running.push({ name, stop: () => stopChild(child, exited) });
  void exited.then((code) => {
    if (!shuttingDown) {
      say(`${name} exited unexpectedly (${code}); stopping the stack`);
      void shutdown(1);
    }
  });
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up`);
    const ok = await fetch(readyUrl).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${name} did not become ready at ${readyUrl}`);
}

async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  say('stopping…');
  for (const part of running.reverse()) {
    try {
      await part.stop();
      say(`stopped ${part.name}`);
    } catch (err) {
      say(`could not stop ${part.name}: ${String(err)}`);
    }
  }
  process.exit(code);
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  await mkdir(DATA, { recursive: true });

  const databaseUrl = await timed('PostgreSQL', startPostgres);
  const temporal = await timed('Temporal', startTemporal);
  const temporalAddress = typeof temporal === 'string' ? temporal : temporal.address;
  const key = await adminKey();
  const env = { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, RAMPART_ADMIN_KEY: key };

  say('worker: starting (bundles the workflow code first)');
  await timed('worker', () => startProcess('worker', 'worker/main.ts', { ...env, WORKER_METRICS_PORT: String(WORKER_METRICS_PORT), WORKER_HOST: '127.0.0.1' }, `http://127.0.0.1:${WORKER_METRICS_PORT}/readyz`));
  say('api: starting');
  await timed('api', () => startProcess('api', 'api/main.ts', { ...env, PORT: String(API_PORT) }, `http://127.0.0.1:${API_PORT}/readyz`));

  const lines = [
    '',
    'Rampart is running:',
    `  API             http://127.0.0.1:${API_PORT}   (health /healthz, readiness /readyz, metrics /metrics)`,
    `  admin API key   ${key}${process.env.RAMPART_ADMIN_KEY ? '   (from RAMPART_ADMIN_KEY)' : `   (kept in ${path.join(DATA, 'admin-key')})`}`,
    `  Temporal        ${temporalAddress}${typeof temporal === 'string' ? '' : `   UI ${temporal.uiUrl}`}`,
    `  PostgreSQL      ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
    `  worker metrics  http://127.0.0.1:${WORKER_METRICS_PORT}/metrics`,
    '',
    'Try:',
    `  curl -H "Authorization: Bearer ${key}" -H 'content-type: application/json' \\`,
    `       -d '{"id":"com.example.app","name":"Example"}' http://127.0.0.1:${API_PORT}/v1/apps`,
    '',
    'Press Ctrl-C to stop everything.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err: unknown) => {
  say(`failed to start: ${err instanceof Error ? err.message : String(err)}`);
  void shutdown(1);
});
