import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createApi, type Api } from '../../api/create-api';
import { createHttpServer } from '../../api/http/create-http-server';
import { apiTuning, reconcilerConfig, type ApiTuningOverrides, type ReconcilerConfig } from '../../platform/config';
import type { Pool } from '../../db/create-pool';
import type { Logger } from '../../platform/logger';
import { createRegistry } from '../../platform/metrics';
import { installTemporalRuntime } from '../../platform/temporal-runtime';
import { newSecretsKey } from '../../platform/secret-box';
import type { Activities } from '../../activities/create-activities';
import { WORKER_DEFAULTS } from '../../platform/config';
import { createWorker, createWorkerActivities, createWorkerDrainer, createWorkerReconciler } from '../../worker/create-worker';
import type { ReleaseReconciler } from '../../worker/release-reconciler';

// Test receivers answer at once; a stuck one should fail its delivery fast, not hold a test.
const WEBHOOK_TIMEOUT_MS = 2000;

export interface InProcessStack {
  baseUrl: string;
  adminKey: string;
  api: Api;
  temporal: Client;
  /** The worker's release reconciler, when the options asked for one. */
  reconciler: ReleaseReconciler | null;
  /** Starts (or restarts) the worker on the stack's task queue. */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** Stops worker and API; the database and the Temporal server belong to the caller. */
  stop(): Promise<void>;
}

export interface InProcessStackOptions {
  pool: Pool;
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
  adminKey: string;
  logger: Logger;
  /** Metric-name prefix, so several stacks in one process keep their registries apart. */
  metricsPrefix: string;
  tuning?: ApiTuningOverrides;
  /** A prebuilt workflow bundle; without one the worker bundles the workflows itself. */
  workflowBundlePath?: string;
  /** Default: a fresh key, fine for a database that lives as long as the stack. */
  secretsKey?: Buffer;
  /**
   * Runs the worker's release reconciler with these settings; off by default, because it withdraws
   * the releases of workflows that tests terminate on purpose.
   */
  reconciler?: Partial<ReconcilerConfig>;
  /**
   * Tests and benchmarks only: wraps the real activities, e.g. to stall a gate read and show that
   * commands do not wait for it.
   */
  wrapActivities?: (activities: Activities) => Activities;
}

/**
 * The API on an ephemeral port and a worker, in this process, on a database and a Temporal server
 * the caller provides: what the test suite and the scripts (fleet run, history recording) run against.
 */
export async function startInProcessStack(options: InProcessStackOptions): Promise<InProcessStack> {
  const { logger, taskQueue, temporalAddress } = options;
  installTemporalRuntime(logger);
  const connection = await Connection.connect({ address: temporalAddress });
  const temporal = new Client({ connection, namespace: 'default' });
  const secretsKey = options.secretsKey ?? newSecretsKey();
  // Test receivers and simulated fleets listen on loopback; a stack can still refuse them.
  const tuning = apiTuning({ snapshotReconcileMs: 60_000, webhooksAllowPrivate: true, ...options.tuning });
  const api = createApi({
    pool: options.pool,
    databaseUrl: options.databaseUrl,
    temporal,
    taskQueue,
    logger,
    // Tests and scripts wait on NOTIFY; the safety-net reload would only add noise.
    tuning,
    secretsKey,
    registry: createRegistry(options.metricsPrefix, false),
  });
  await api.deps.apiKeys.bootstrap(options.adminKey);
  await api.start();
  const server: Server = await new Promise((resolve) => {
    const s = createHttpServer(api.app).listen(0, '127.0.0.1', () => resolve(s));
  });

  const workerRegistry = createRegistry(`${options.metricsPrefix}_worker`, false);
  const workerOptions = { logger, registry: workerRegistry, secretsKey, webhookTimeoutMs: WEBHOOK_TIMEOUT_MS, webhooksAllowPrivate: tuning.webhooksAllowPrivate };
  const real = createWorkerActivities(options.pool, workerOptions);
  const activities = options.wrapActivities ? options.wrapActivities(real) : real;
  // Test receivers answer at once: look for due deliveries and notifications often.
  const drainer = createWorkerDrainer(options.pool, {
    ...workerOptions,
    settings: { outbox: { ...WORKER_DEFAULTS.webhookOutbox, pollMs: 100 }, notifications: { ...WORKER_DEFAULTS.segmentNotifications, pollMs: 100 } },
  });
  let worker: { worker: Worker; running: Promise<void>; connection: NativeConnection } | null = null;
  const startWorker = async () => {
    if (worker) return;
    const nativeConnection = await NativeConnection.connect({ address: temporalAddress });
    const w = await createWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      activities,
      ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : {}),
    });
    worker = { worker: w, running: w.run(), connection: nativeConnection };
    await drainer.start();
  };
  const stopWorker = async () => {
    if (!worker) return;
    const current = worker;
    worker = null;
    await drainer.stop();
    current.worker.shutdown();
    await current.running;
    await current.connection.close();
  };
  await startWorker();
  const reconciler = options.reconciler
    ? createWorkerReconciler(options.pool, temporal, {
        logger,
        registry: createRegistry(`${options.metricsPrefix}_reconciler`, false),
        secretsKey,
        config: reconcilerConfig(options.reconciler),
      })
    : null;
  await reconciler?.start();

  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    adminKey: options.adminKey,
    api,
    temporal,
    reconciler,
    startWorker,
    stopWorker,
    async stop() {
      await reconciler?.stop();
      await stopWorker();
      api.closeStreams();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await api.stop();
      await connection.close();
    },
  };
}
