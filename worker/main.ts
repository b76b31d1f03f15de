import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createPool } from '../db/create-pool';
import { ensureDatabase } from '../db/ensure-database';
import { migrate } from '../db/migrate';
import { ConfigError, loadWorkerConfig, requireSecretsKey } from '../platform/config';
import { createLogger } from '../platform/logger';
import { createCounter, createRegistry } from '../platform/metrics';
import { startOpsServer } from '../platform/ops-server';
import { temporalConnectionOptions } from '../platform/temporal-connection';
import { installTemporalRuntime } from '../platform/temporal-runtime';
import { ensureSearchAttributes } from '../platform/temporal-search-attributes';
import { createDeviceProfileStore } from '../db/stores/device-profile-store';
import { createHealthStore } from '../db/stores/health-store';
import { createRollupStore } from '../db/stores/rollup-store';
import { createSegmentNotificationStore } from '../db/stores/segment-notification-store';
import { createTelemetryStore } from '../db/stores/telemetry-store';
import { createWorker, createWorkerActivities, createWorkerDrainer, createWorkerReconciler } from './create-worker';
import { createRetentionJob } from './retention-job';

const TEMPORAL_PROBE_TIMEOUT_MS = 2000;

async function main(): Promise<void> {
  const config = loadWorkerConfig(process.env);
  const secretsKey = requireSecretsKey(config);
  const logger = createLogger('rampart-worker', config.logLevel);
  installTemporalRuntime(logger);

  await ensureDatabase(config.databaseUrl);
  const pool = createPool(config.databaseUrl, config.databasePoolMax, config.databaseTimeouts);
  pool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL client failed'));
  await migrate(pool, logger);

  const registry = createRegistry('rampart_worker');
  const activities = createWorkerActivities(pool, {
    logger,
    registry,
    secretsKey,
    webhookTimeoutMs: config.webhookTimeoutMs,
    webhooksAllowPrivate: config.webhooksAllowPrivate,
  });
  const operator = await Connection.connect(temporalConnectionOptions(config.temporal));
  await ensureSearchAttributes(operator, config.temporal.namespace, logger);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    ...(config.workflowBundlePath ? { workflowBundle: { codePath: config.workflowBundlePath } } : {}),
  });
  const retentionMetric = createCounter(
    registry,
    'rampart_telemetry_rows_purged_total',
    'Rows deleted by the retention job: device-windows, rollups, empty activity counters, devices behind expired notification tokens',
  );
  const retention = createRetentionJob({
    telemetry: createTelemetryStore(pool),
    rollups: createRollupStore(pool),
    profiles: createDeviceProfileStore(pool),
    notifications: createSegmentNotificationStore(pool),
    logger,
    registry,
    settings: {
      eventRetentionDays: config.eventRetentionDays,
      rollupRetentionDays: config.rollupRetentionDays,
      partitionsAhead: config.eventPartitionsAhead,
      intervalMs: config.retentionIntervalMs,
    },
    onDeleted: (rows) => retentionMetric.inc(rows),
  });
  await retention.start();
  const reconciler = createWorkerReconciler(pool, new Client({ connection: operator, namespace: config.temporal.namespace }), {
    logger,
    registry,
    secretsKey,
    config: config.reconciler,
  });
  await reconciler.start();
  const drainer = createWorkerDrainer(pool, {
    logger,
    registry,
    secretsKey,
    webhookTimeoutMs: config.webhookTimeoutMs,
    webhooksAllowPrivate: config.webhooksAllowPrivate,
    settings: { outbox: config.webhookOutbox, notifications: config.segmentNotifications },
  });
  await drainer.start();
  const health = createHealthStore(pool);
  const ops = await startOpsServer({
    registry,
    isReady: () => worker.getState() === 'RUNNING',
    dependencies: {
      postgres: () => health.isReachable(),
      temporal: () => operator.withDeadline(Date.now() + TEMPORAL_PROBE_TIMEOUT_MS, () => operator.workflowService.getSystemInfo({})).then(() => true),
    },
    host: config.host,
    port: config.metricsPort,
  });
  logger.info({ taskQueue: config.temporal.taskQueue, temporal: config.temporal.address, metricsPort: config.metricsPort }, 'worker started');

  // The SDK's runtime shuts workers down on SIGINT/SIGTERM; run() resolves once in-flight tasks finished.
  try {
    await worker.run();
  } finally {
    await retention.stop();
    await reconciler.stop();
    await drainer.stop();
    ops.close();
    await connection.close();
    await operator.close();
    await pool.end();
    logger.info('worker stopped');
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`rampart-worker: ${err.message}\n`);
  } else {
    process.stderr.write(`rampart-worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
