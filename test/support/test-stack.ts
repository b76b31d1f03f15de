import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities } from '../../activities/create-activities';
import { createActivityMetrics } from '../../activities/activity-metrics';
import { createApi, type Api } from '../../api/create-api';
import { createRolloutStateStore } from '../../db/stores/rollout-state-store';
import { createLogger } from '../../platform/logger';
import { createRegistry } from '../../platform/metrics';
import { installTemporalRuntime } from '../../platform/temporal-runtime';
import { createWorker } from '../../worker/create-worker';
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
export async function startTestStack(): Promise<TestStack> {
  const env = inject('testEnv');
  installTemporalRuntime(logger);
  const db = await createTestDatabase();
  const taskQueue = `test-${randomBytes(6).toString('hex')}`;
  const connection = await Connection.connect({ address: env.temporalAddress });
  const temporal = new Client({ connection, namespace: 'default' });
  const api = createApi({ pool: db.pool, databaseUrl: db.url, temporal, taskQueue, logger, snapshotReconcileMs: 60_000, registry: createRegistry('test', false) });
  const adminKey = `test-admin-${randomBytes(12).toString('hex')}`;
  await api.deps.apiKeys.bootstrap(adminKey);
  await api.start();
  const server: Server = await new Promise((resolve) => {
    const s = api.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let worker: { worker: Worker; running: Promise<void>; connection: NativeConnection } | null = null;
  const activityRegistry = createRegistry('test_worker', false);
  const activityMetrics = createActivityMetrics(activityRegistry);

  const startWorker = async () => {
    if (worker) return;
    const nativeConnection = await NativeConnection.connect({ address: env.temporalAddress });
    const w = await createWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      activities: createActivities({ rolloutStates: createRolloutStateStore(db.pool), logger, metrics: activityMetrics }),
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
