import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import { createApi, type Api, type ApiOptions } from '../../api/create-api';
import { createLogger } from '../../platform/logger';
import { createRegistry } from '../../platform/metrics';
import { installTemporalRuntime } from '../../platform/temporal-runtime';
import { createWorker, createWorkerActivities } from '../../worker/create-worker';
import { createHttp, type Http } from './http';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestStack {
  baseUrl: string;
  adminKey: string;
  api: Api;
  db: TestDatabase;
  temporal: Client;
  taskQueue: string;
  /** Starts (or restarts) the worker on the stack's task queue. */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

const logger = createLogger('rampart-test', process.env.TEST_LOG_LEVEL ?? 'warn');

/**
 * The whole service against the real Temporal dev server and a real PostgreSQL database of its own:
 * the API on an ephemeral port and a worker on a task queue no other test file uses.
 */
export async function startTestStack(options: Pick<ApiOptions, 'deviceRateLimit'> = {}): Promise<TestStack> {
  const env = inject('testEnv');
  installTemporalRuntime(logger);
  const db = await createTestDatabase();
  const taskQueue = `test-${randomBytes(6).toString('hex')}`;
  const connection = await Connection.connect({ address: env.temporalAddress });
  const temporal = new Client({ connection, namespace: 'default' });
  const api = createApi({
    pool: db.pool,
    databaseUrl: db.url,
    temporal,
    taskQueue,
    logger,
    snapshotReconcileMs: 60_000,
    registry: createRegistry('test', false),
    // Short enough that a test sees engagement change within a few hundred milliseconds.
    deviceProfiles: { flushIntervalMs: 100, cacheTtlMs: 300 },
    ...options,
  });
  const adminKey = `test-admin-${randomBytes(12).toString('hex')}`;
  await api.deps.apiKeys.bootstrap(adminKey);
  await api.start();
  const server: Server = await new Promise((resolve) => {
    const s = api.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let worker: { worker: Worker; running: Promise<void>; connection: NativeConnection } | null = null;
  const activities = createWorkerActivities(db.pool, logger, createRegistry('test_worker', false), 2000);

  const startWorker = async () => {
    if (worker) return;
    const nativeConnection = await NativeConnection.connect({ address: env.temporalAddress });
    const w = await createWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      activities,
      workflowBundle: { codePath: env.workflowBundlePath },
    });
    worker = { worker: w, running: w.run(), connection: nativeConnection };
  };
  const stopWorker = async () => {
    if (!worker) return;
    const current = worker;
    worker = null;
    current.worker.shutdown();
    await current.running;
    await current.connection.close();
  };

  await startWorker();
  return {
    baseUrl,
    adminKey,
    api,
    db,
    temporal,
    taskQueue,
    startWorker,
    stopWorker,
    async stop() {
      await stopWorker();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await api.stop();
      await connection.close();
      await db.drop();
    },
  };
}

export interface StackContext {
  stack: TestStack;
  /** HTTP client with the bootstrap admin key. */
  admin: Http;
  /** HTTP client without credentials, as devices call. */
  device: Http;
}

/** Starts one stack for the test file (beforeAll) and stops it afterwards; fields are set once started. */
export function useTestStack(options: Parameters<typeof startTestStack>[0] = {}): StackContext {
  const ctx = {} as StackContext;
  beforeAll(async () => {
    ctx.stack = await startTestStack(options);
    ctx.admin = createHttp(ctx.stack.baseUrl, ctx.stack.adminKey);
    ctx.device = createHttp(ctx.stack.baseUrl);
  });
  afterAll(async () => {
    await ctx.stack?.stop();
  });
  return ctx;
}
