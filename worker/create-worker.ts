import path from 'node:path';
import type { Client } from '@temporalio/client';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Registry } from 'prom-client';
import { createActivities, type Activities } from '../activities/create-activities';
import { createActivityMetrics } from '../activities/activity-metrics';
import type { Pool } from '../db/create-pool';
import { createStores, createTransactor } from '../db/create-stores';
import { createReleaseWithdrawal } from '../db/release-withdrawal';
import type { ReconcilerConfig } from '../platform/config';
import type { Logger } from '../platform/logger';
import { createCounter } from '../platform/metrics';
import { createSecretBox } from '../platform/secret-box';
import { workflowRunState } from '../platform/workflow-status';
import { createReleaseReconciler, type ReleaseReconciler } from './release-reconciler';
import { createWebhookOutboxDrainer, type OutboxDrainer, type OutboxDrainerSettings } from './webhook-outbox-drainer';
import { createSegmentNotificationDispatcher, type NotificationDispatcherSettings } from './segment-notification-dispatcher';

export const WORKFLOWS_PATH = path.resolve(__dirname, '../workflows');

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt bundle (production); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}

/** The activities with their real dependencies: PostgreSQL stores and webhook delivery over HTTP. */
export interface WorkerActivitiesOptions {
  logger: Logger;
  registry: Registry;
  /** The API's RAMPART_SECRETS_KEY: webhook URLs and secrets are sealed with it. */
  secretsKey: Buffer;
  webhookTimeoutMs: number;
  webhooksAllowPrivate: boolean;
}

export function createWorkerActivities(pool: Pool, options: WorkerActivitiesOptions): Activities {
  const { logger, registry } = options;
  const box = createSecretBox(options.secretsKey);
  const stores = createStores(pool, box);
  return createActivities({
    rolloutStates: stores.rolloutStates,
    gateWindows: stores.gateWindows,
    experiments: stores.experiments,
    audit: stores.audit,
    webhooks: stores.webhooks,
    transaction: createTransactor(pool, box),
    logger,
    metrics: createActivityMetrics(registry),
    webhookDelivery: { timeoutMs: options.webhookTimeoutMs, allowPrivate: options.webhooksAllowPrivate },
  });
}

export interface WorkerReconcilerOptions {
  logger: Logger;
  registry: Registry;
  secretsKey: Buffer;
  config: ReconcilerConfig;
}

/** The reconciler with its real dependencies: PostgreSQL for releases, Temporal to ask about their workflows. */
export function createWorkerReconciler(pool: Pool, temporal: Client, options: WorkerReconcilerOptions): ReleaseReconciler {
  const secrets = createSecretBox(options.secretsKey);
  const withdrawn = createCounter(
    options.registry,
    'rampart_releases_withdrawn_by_reconciler_total',
    'Releases the reconciler withdrew because their workflow closed without finishing them or never started',
    ['cause'],
  );
  return createReleaseReconciler({
    registry: options.registry,
    releases: createStores(pool, secrets).releases,
    workflowState: (workflowId) => workflowRunState(temporal, workflowId, options.config.describeTimeoutMs),
    withdrawal: createReleaseWithdrawal(createTransactor(pool, secrets)),
    logger: options.logger,
    settings: options.config,
    onWithdrawn: (cause) => withdrawn.inc({ cause }),
  });
}

/**
 * The worker's senders, started by the caller: the webhook outbox drainer, and the dispatcher that
 * turns segment notifications into outbox rows (see segment-notification-dispatcher).
 */
export function createWorkerDrainer(
  pool: Pool,
  options: WorkerActivitiesOptions & { settings: { outbox: OutboxDrainerSettings; notifications: NotificationDispatcherSettings } },
): OutboxDrainer {
  const secrets = createSecretBox(options.secretsKey);
  const stores = createStores(pool, secrets);
  const drainer = createWebhookOutboxDrainer({
    outbox: stores.webhookOutbox,
    webhooks: stores.webhooks,
    delivery: { timeoutMs: options.webhookTimeoutMs, allowPrivate: options.webhooksAllowPrivate },
    logger: options.logger,
    registry: options.registry,
    settings: options.settings.outbox,
  });
  const dispatcher = createSegmentNotificationDispatcher({
    stores,
    transact: createTransactor(pool, secrets),
    logger: options.logger,
    registry: options.registry,
    settings: options.settings.notifications,
  });
  return {
    async start() {
      await Promise.all([dispatcher.start(), drainer.start()]);
    },
    async stop() {
      await dispatcher.stop();
      await drainer.stop();
    },
  };
}
