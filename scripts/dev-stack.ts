import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { ConfigError, DEFAULT_DATABASE_URL, loadDevStackConfig, type DevStackConfig } from '../platform/config';
import { newSecret } from '../platform/ids';
import { newSecretsKey } from '../platform/secret-box';
import { checkoutDatabaseName } from './support/checkout-database';
import { startTemporalDevServer, type DevServer } from '../platform/temporal-dev-server';

/*
 * The one-command local stack behind `npm start`: a Temporal dev server (SQLite under .data/),
 * PostgreSQL (DATABASE_URL, else the local server, else an embedded one), the worker and the API.
 * Ctrl-C stops everything in reverse order.
 */

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

const say = (line: string) => process.stdout.write(`[rampart] ${line}\n`);
/** Each start-up step says when it is done and how long it took: a slow start then names its step. */
const timed = async <T>(step: string, run: () => Promise<T>): Promise<T> => {
  const started = Date.now();
  const result = await run();
  say(`${step} ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
};

function configOrExit(): DevStackConfig {
  try {
    return loadDevStackConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`[rampart] ${err.message}\n`);
    process.exit(2);
  }
}

const config = configOrExit();
const DATA = path.resolve(config.dataDir ?? path.join(ROOT, '.data'));

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
  if (config.databaseUrl) {
    say(`PostgreSQL: using DATABASE_URL`);
    return config.databaseUrl;
  }
  if (!config.forceEmbeddedPostgres && (await reachable(DEFAULT_DATABASE_URL))) {
    const url = new URL(DEFAULT_DATABASE_URL);
    url.pathname = `/${checkoutDatabaseName(ROOT)}`;
    say(`PostgreSQL: using the local server at ${url.host}, database ${url.pathname.slice(1)} (this checkout's own; set DATABASE_URL to choose another)`);
    return url.toString();
  }
  say(`PostgreSQL: none reachable, starting an embedded one (data in ${path.join(DATA, 'postgres')})`);
  const child = spawn(TSX, [path.join(ROOT, 'scripts/embedded-postgres.ts'), path.join(DATA, 'postgres'), String(config.embeddedPostgresPort)], {
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
  if (config.temporalAddress) {
    say(`Temporal: using TEMPORAL_ADDRESS=${config.temporalAddress}`);
    return config.temporalAddress;
  }
  const cliPath = config.temporalCliPath;
  if (!cliPath) throw new Error('TEMPORAL_CLI_PATH is not set; run through `npm start`, which finds or builds the CLI');
  say(`Temporal: starting a dev server on port ${config.temporalPort}`);
  const server = await startTemporalDevServer({
    cliPath,
    port: config.temporalPort,
    uiPort: config.temporalUiPort,
    dbFilename: path.join(DATA, 'temporal.sqlite'),
    logFile: path.join(DATA, 'temporal.log'),
    detached: true,
  });
  running.push({ name: 'Temporal dev server', stop: () => server.stop() });
  return server;
}

async function adminKey(): Promise<string> {
  if (config.adminKey) return config.adminKey;
  const file = path.join(DATA, 'admin-key');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const key = newSecret('rk_');
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return key;
}

/** The key that seals credentials at rest; losing `.data/secrets-key` loses webhook secrets and signing keys. */
async function secretsKey(): Promise<string> {
  if (config.secretsKey) return config.secretsKey.toString('base64');
  const file = path.join(DATA, 'secrets-key');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const key = newSecretsKey().toString('base64');
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
  const env = { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, RAMPART_ADMIN_KEY: key, RAMPART_SECRETS_KEY: await secretsKey() };

  say('worker: starting (bundles the workflow code first)');
  await timed('worker', () => startProcess('worker', 'worker/main.ts', { ...env, WORKER_METRICS_PORT: String(config.workerMetricsPort), WORKER_HOST: '127.0.0.1' }, `http://127.0.0.1:${config.workerMetricsPort}/readyz`));
  say('api: starting');
  await timed('api', () => startProcess('api', 'api/main.ts', { ...env, PORT: String(config.apiPort), API_METRICS_PORT: String(config.apiMetricsPort) }, `http://127.0.0.1:${config.apiPort}/readyz`));

  const lines = [
    '',
    'Rampart is running:',
    `  API             http://127.0.0.1:${config.apiPort}   (health /healthz, readiness /readyz)`,
    `  dashboard       http://127.0.0.1:${config.apiPort}/   (sign in with the key below)`,
    `  API description http://127.0.0.1:${config.apiPort}/openapi.json`,
    `  API metrics     http://127.0.0.1:${config.apiMetricsPort}/metrics`,
    `  admin API key   ${key}${config.adminKey ? '   (from RAMPART_ADMIN_KEY)' : `   (kept in ${path.join(DATA, 'admin-key')})`}`,
    `  Temporal        ${temporalAddress}${typeof temporal === 'string' ? '' : `   UI ${temporal.uiUrl}`}`,
    `  PostgreSQL      ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
    `  worker metrics  http://127.0.0.1:${config.workerMetricsPort}/metrics`,
    '',
    'Try:',
    `  curl -H "Authorization: Bearer ${key}" -H 'content-type: application/json' \\`,
    `       -d '{"id":"com.example.app","name":"Example"}' http://127.0.0.1:${config.apiPort}/v1/apps`,
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
