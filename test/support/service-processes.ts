import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { freePort } from '../../platform/temporal-dev-server';
import { newSecretsKey } from '../../platform/secret-box';
import { createHttp, type Http } from './http';
import { spawnProcess, type SpawnedProcess } from './processes';

const ROOT = path.resolve(__dirname, '../..');
/** A busy 2-core machine compiles the service's TypeScript on the first start: slow, never stuck. */
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;

/** What every process of one deployment shares, as their environment says it. */
export interface Deployment {
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
  adminKey: string;
  /** base64, the same for every API and worker process (they open each other's sealed secrets). */
  secretsKey: string;
  workflowBundlePath: string;
}

export function newDeployment(where: Pick<Deployment, 'databaseUrl' | 'temporalAddress' | 'workflowBundlePath'>): Deployment {
  return {
    ...where,
    taskQueue: `faults-${randomBytes(6).toString('hex')}`,
    adminKey: `test-admin-${randomBytes(12).toString('hex')}`,
    secretsKey: newSecretsKey().toString('base64'),
  };
}

/**
 * A service entry point (api/main.ts, worker/main.ts) run as its own OS process, as in production:
 * `kill()` is a real SIGKILL, with no shutdown hook, no flush, no goodbye to PostgreSQL or Temporal.
 */
export interface ServiceProcess {
  readonly name: string;
  /** The process now running, null while it is down. */
  readonly current: SpawnedProcess | null;
  /** Every line each start of it printed, for a failing test to show. */
  readonly output: string[];
  /** Starts it and resolves once it says it serves (the API: snapshot loaded and listening). */
  start(): Promise<void>;
  /** Starts it without waiting for it to serve. */
  spawn(): SpawnedProcess;
  /** `kill -9` of its whole process group, and waits until it is gone. */
  kill(): Promise<void>;
  /** SIGTERM, as an orchestrator stops it (SIGKILL when it does not stop in time). */
  stop(): Promise<void>;
}

export interface ApiProcess extends ServiceProcess {
  baseUrl: string;
  admin: Http;
  device: Http;
}

function serviceProcess(name: string, entry: string, env: NodeJS.ProcessEnv, ready: RegExp): ServiceProcess {
  let current: SpawnedProcess | null = null;
  const runs: SpawnedProcess[] = [];
  const spawn = () => {
    if (current) throw new Error(`${name} is running already`);
    // node itself, not a tsx wrapper: the pid killed is the service's own.
    const child = spawnProcess(process.execPath, ['--import', 'tsx', entry], { ...process.env, ...env }, ROOT);
    current = child;
    runs.push(child);
    void child.exited.then(({ code, signal }) => {
      child.output.push(`--- ${name} (pid ${child.child.pid}) exited: code ${code}, signal ${signal} ---`);
      if (current === child) current = null;
    });
    return child;
  };
  const signal = async (sig: NodeJS.Signals, timeoutMs?: number) => {
    const child = current;
    if (!child) return;
    const group = -child.child.pid!;
    const send = (s: NodeJS.Signals) => {
      try {
        process.kill(group, s);
      } catch {
        // The group is gone already (ESRCH): what the signal was for.
      }
    };
    send(sig);
    const timer = timeoutMs === undefined ? null : setTimeout(() => send('SIGKILL'), timeoutMs);
    await child.exited;
    if (timer) clearTimeout(timer);
  };
  return {
    name,
    get current() {
      return current;
    },
    get output() {
      return runs.flatMap((run) => run.output);
    },
    spawn,
    async start() {
      const child = spawn();
      try {
        await child.waitForLine(ready, START_TIMEOUT_MS);
      } catch (err) {
        throw new Error(`${name} did not start: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM', STOP_TIMEOUT_MS),
  };
}

/** The process's name on its PostgreSQL connections (pg_stat_activity), so a test can tell whose they are. */
function namedConnections(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', name);
  return url.toString();
}

const commonEnv = (d: Deployment, name: string, databaseUrl: string): NodeJS.ProcessEnv => ({
  DATABASE_URL: namedConnections(databaseUrl, name),
  TEMPORAL_ADDRESS: d.temporalAddress,
  TEMPORAL_TASK_QUEUE: d.taskQueue,
  RAMPART_SECRETS_KEY: d.secretsKey,
  // The test's webhook receiver listens on loopback.
  RAMPART_WEBHOOKS_ALLOW_PRIVATE: 'true',
  // Each line the ready patterns and ledgers read is an info line.
  LOG_LEVEL: 'info',
  // A dead dependency fails a request within a second, as the fault tests expect of it.
  DATABASE_CONNECT_TIMEOUT_MS: '1000',
  DATABASE_STATEMENT_TIMEOUT_MS: '10000',
});

export interface ApiProcessOptions {
  /** Where this instance reaches PostgreSQL (e.g. through a proxy); default the deployment's. */
  databaseUrl?: string;
  env?: NodeJS.ProcessEnv;
}

/** An API instance on ports of its own, kept across restarts (a load balancer's target stays put). */
export async function createApiProcess(d: Deployment, name: string, options: ApiProcessOptions = {}): Promise<ApiProcess> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const proc = serviceProcess(
    name,
    'api/main.ts',
    {
      ...commonEnv(d, name, options.databaseUrl ?? d.databaseUrl),
      PORT: String(port),
      HOST: '127.0.0.1',
      API_METRICS_PORT: String(metricsPort),
      API_METRICS_HOST: '127.0.0.1',
      RAMPART_ADMIN_KEY: d.adminKey,
      ...options.env,
    },
    /"msg":"api listening"/,
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  return Object.assign(proc, { baseUrl, admin: createHttp(baseUrl, d.adminKey), device: createHttp(baseUrl) });
}

export interface WorkerProcessOptions {
  databaseUrl?: string;
  env?: NodeJS.ProcessEnv;
}

export async function createWorkerProcess(d: Deployment, name: string, options: WorkerProcessOptions = {}): Promise<ServiceProcess> {
  return serviceProcess(
    name,
    'worker/main.ts',
    {
      ...commonEnv(d, name, options.databaseUrl ?? d.databaseUrl),
      WORKER_HOST: '127.0.0.1',
      WORKER_METRICS_PORT: String(await freePort()),
      WORKFLOW_BUNDLE_PATH: d.workflowBundlePath,
      ...options.env,
    },
    /"msg":"worker started"/,
  );
}

/** Stops every process still running (SIGTERM, then SIGKILL); for afterAll. */
export async function stopAll(processes: ServiceProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.stop()));
}

/** The last lines of every process, for a failure message. */
export function tailOf(processes: ServiceProcess[], lines = 30): string {
  return processes.map((p) => [`=== ${p.name}`, ...p.output.slice(-lines)].join('\n')).join('\n');
}
