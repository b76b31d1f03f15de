import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { RELEASE_SEARCH_ATTRIBUTES } from '../domain/search-attributes';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');

/** The Temporal CLI path from scripts/temporal-cli.sh, which builds it with Go when it is missing. */
export async function findTemporalCli(): Promise<string> {
  const { stdout } = await run('bash', [path.join(ROOT, 'scripts/temporal-cli.sh')], { maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60_000 });
  return stdout.trim().split('\n').pop()!;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * The continue-as-new point of the test suite's dev server and of the recorded histories it replays:
 * low, so continue-as-new happens within seconds of a release.
 */
export const SHORT_HISTORY_CONTINUE_AS_NEW = 60;

export interface DevServerOptions {
  cliPath: string;
  port: number;
  /** Web UI port; omitted means headless. */
  uiPort?: number;
  /** SQLite file that keeps state across restarts; omitted means in memory. */
  dbFilename?: string;
  /** History length at which Temporal suggests continue-as-new (default: the server's, ~4k events). */
  suggestContinueAsNewAfter?: number;
  logFile: string;
  /** How long to wait for the server to answer health checks. */
  startTimeoutMs?: number;
  /**
   * Own process group, so a terminal's Ctrl-C reaches the caller's shutdown logic (which stops the
   * server in order) rather than the server; left off, the server dies with its parent's group.
   */
  detached?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` on 127.0.0.1 with our search attributes and waits until it serves. */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const address = `127.0.0.1:${options.port}`;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--log-level',
    'warn',
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    ...RELEASE_SEARCH_ATTRIBUTES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    ...(options.uiPort ? ['--ui-ip', '127.0.0.1', '--ui-port', String(options.uiPort)] : ['--headless']),
    ...(options.dbFilename ? ['--db-filename', options.dbFilename, '--sqlite-pragma', 'journal_mode=WAL'] : []),
    ...(options.suggestContinueAsNewAfter ? ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${options.suggestContinueAsNewAfter}`] : []),
  ];
  // A fresh clone has no .data/ yet; a log that cannot be opened would crash the process, not fail the start.
  await mkdir(path.dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const state: { exitCode: number | null } = { exitCode: null };
  child.once('exit', (code) => (state.exitCode = code ?? -1));

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (state.exitCode !== null) throw new Error(`temporal dev server exited with ${state.exitCode}; see ${options.logFile}`);
    const healthy = await run(options.cliPath, ['operator', 'cluster', 'health', '--address', address], { timeout: 5000 }).then(
      ({ stdout }) => stdout.includes('SERVING'),
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`temporal dev server did not become healthy on ${address}; see ${options.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  return {
    address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : null,
    process: child,
    async stop() {
      if (state.exitCode !== null) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
      log.end();
    },
  };
}
