import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import type { Pool } from '../db/create-pool';
import { createStores, createTransactor } from '../db/create-stores';
import { createServingReadModel } from '../db/read-models/serving-read-model';
import type { ApiTuning } from '../platform/config';
import type { Logger } from '../platform/logger';
import { createRegistry } from '../platform/metrics';
import { createApiMetrics } from './api-metrics';
import { createApp, type AppDeps } from './create-app';
import { createApiKeyService } from './services/api-key-service';
import { withCachedAuthentication } from './services/cached-api-keys';
import { createAppService } from './services/app-service';
import { createChannelService } from './services/channel-service';
import { createSegmentService } from './services/segment-service';
import { createDeviceStoryService } from './services/device-story-service';
import { createBundleService } from './services/bundle-service';
import { createReleaseService } from './services/release-service';
import { createRolloutClient } from './services/rollout-client';
import { createWebhookService } from './services/webhook-service';
import { createRolloutSnapshot } from './snapshot/rollout-snapshot';
import { createTelemetryService } from './telemetry/telemetry-service';
import { createTelemetryStore } from '../db/stores/telemetry-store';
import { createDeviceProfiles } from './device/device-profiles';
import { createDeviceService } from './device/device-service';
import { createCapgoDeviceService } from './device/capgo/capgo-device-service';
import { createRateLimiter } from './device/rate-limiter';

export interface ApiOptions {
  pool: Pool;
  databaseUrl: string;
  temporal: Client;
  taskQueue: string;
  logger: Logger;
  tuning: ApiTuning;
  registry?: Registry;
}

export interface Api {
  app: Express;
  deps: AppDeps;
  /** Loads the snapshot and starts following changes; call before serving device checks. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Wires the API process from its connections; the composition root (`main.ts`) and tests share it. */
export function createApi(options: ApiOptions): Api {
  const { pool, logger, tuning } = options;
  const registry = options.registry ?? createRegistry('rampart_api');
  const metrics = createApiMetrics(registry);
  const stores = createStores(pool);
  const snapshot = createRolloutSnapshot({
    databaseUrl: options.databaseUrl,
    readModel: createServingReadModel(pool, tuning.selfAssignment.ttlMs),
    logger,
    metrics,
    reconcileMs: tuning.snapshotReconcileMs,
  });
  const rollouts = createRolloutClient({ client: options.temporal, taskQueue: options.taskQueue, queryTimeoutMs: tuning.temporalQueryTimeoutMs });
  const apps = createAppService(stores, createTransactor(pool));
  const segments = createSegmentService(stores, apps);
  const telemetry = createTelemetryService({ snapshot, store: createTelemetryStore(pool), metrics, maxBatch: tuning.telemetryMaxBatch });
  const profiles = createDeviceProfiles({ store: stores.deviceProfiles, logger, metrics, ...tuning.deviceProfiles });
  const devices = createDeviceService({
    stores,
    snapshot,
    telemetry,
    profiles,
    limiter: createRateLimiter(tuning.deviceRateLimit),
    metrics,
    maxSelfAssignmentsPerApp: tuning.selfAssignment.maxPerApp,
  });
  const deps: AppDeps = {
    database: stores.health,
    logger,
    registry,
    metrics,
    snapshot,
    rollouts,
    apiKeys: withCachedAuthentication(createApiKeyService(stores), tuning.apiKeyCache),
    apps,
    bundles: createBundleService(stores, apps),
    releases: createReleaseService({
      stores,
      apps,
      rollouts,
      segmentsOf: (appId) => segments.summaries(appId),
      metrics,
      logger,
    }),
    webhooks: createWebhookService(stores, apps),
    telemetry,
    channels: createChannelService(stores, apps),
    segments,
    deviceStories: createDeviceStoryService({ stores, apps, snapshot }),
    devices,
    capgo: createCapgoDeviceService({ devices }),
  };
  return {
    app: createApp(deps),
    deps,
    async start() {
      await snapshot.start();
      profiles.start();
    },
    async stop() {
      await deps.telemetry.drain();
      await profiles.stop();
      await snapshot.stop();
    },
  };
}
