import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import type { Pool } from '../db/create-pool';
import { createStores, createTransactor } from '../db/create-stores';
import { createServingReadModel } from '../db/read-models/serving-read-model';
import { createReleaseWithdrawal } from '../db/release-withdrawal';
import type { ApiTuning } from '../platform/config';
import type { Logger } from '../platform/logger';
import { createRegistry } from '../platform/metrics';
import { createApiMetrics, registerReleaseGauges } from './api-metrics';
import { createReleaseGaugeSource } from './release-gauges';
import { createReleaseGaugeReadModel } from '../db/read-models/release-gauge-read-model';
import { createApp, type AppDeps } from './create-app';
import { createApiKeyService } from './services/api-key-service';
import { createAuditService } from './services/audit-service';
import { withCachedAuthentication } from './services/cached-api-keys';
import { createAppService } from './services/app-service';
import { createAppPolicyService } from './services/app-policy-service';
import { createChannelService } from './services/channel-service';
import { createSegmentService } from './services/segment-service';
import { createDeviceStoryService } from './services/device-story-service';
import { createBundleService } from './services/bundle-service';
import { createInsightService } from './services/insight-service';
import { createReleaseService } from './services/release-service';
import { createExperimentService } from './services/experiment-service';
import { createRolloutClient } from './services/rollout-client';
import { createWebhookService } from './services/webhook-service';
import { createSigningKeyService } from './services/signing-key-service';
import { createSecretBox } from '../platform/secret-box';
import { createRolloutSnapshot } from './snapshot/rollout-snapshot';
import { createReleaseEvents } from './release-events';
import { defaultUiDir } from './ui-routes';
import { createTelemetryService } from './telemetry/telemetry-service';
import { createTelemetryStore } from '../db/stores/telemetry-store';
import { createDeviceProfiles } from './device/device-profiles';
import { createDeviceService } from './device/device-service';
import { createCapgoDeviceService } from './device/capgo/capgo-device-service';
import { createExpoCodeSigning } from './device/expo/expo-code-signing';
import { createExpoUpdatesSource } from './device/expo/expo-updates-source';
import { createRateLimiter } from './device/rate-limiter';
import { createSourceLimiter } from './device/source-limiter';

export interface ApiOptions {
  pool: Pool;
  databaseUrl: string;
  temporal: Client;
  taskQueue: string;
  logger: Logger;
  tuning: ApiTuning;
  /** Seals credentials at rest (RAMPART_SECRETS_KEY); the worker must use the same. */
  secretsKey: Buffer;
  registry?: Registry;
  /** The built dashboard; default dist/ui. */
  uiDir?: string;
}

export interface Api {
  app: Express;
  deps: AppDeps;
  /** Loads the snapshot and starts following changes; call before serving device checks. */
  start(): Promise<void>;
  /** Ends live streams (release pages), so closing the server does not wait for browsers. */
  closeStreams(): void;
  stop(): Promise<void>;
}

/** Frequent scrapes share one read of the rollups for this long. */
const RELEASE_GAUGE_CACHE_MS = 15_000;
/** Per-release gauge series per scrape, all four gauges together; more are dropped and counted. */
const RELEASE_GAUGE_MAX_SERIES = 2000;

/** Wires the API process from its connections; the composition root (`main.ts`) and tests share it. */
export function createApi(options: ApiOptions): Api {
  const { pool, logger, tuning } = options;
  const registry = options.registry ?? createRegistry('rampart_api');
  const metrics = createApiMetrics(registry);
  const secrets = createSecretBox(options.secretsKey);
  const stores = createStores(pool, secrets);
  const transact = createTransactor(pool, secrets);
  const snapshot = createRolloutSnapshot({
    databaseUrl: options.databaseUrl,
    readModel: createServingReadModel(pool, secrets, tuning.selfAssignment.ttlMs),
    logger,
    metrics,
    reconcileMs: tuning.snapshotReconcileMs,
  });
  registerReleaseGauges(
    registry,
    createReleaseGaugeSource({
      releases: () => snapshot.servedReleases(),
      readModel: createReleaseGaugeReadModel(pool),
      logger,
      cacheMs: RELEASE_GAUGE_CACHE_MS,
      maxSeries: RELEASE_GAUGE_MAX_SERIES,
    }),
  );
  const rollouts = createRolloutClient({
    client: options.temporal,
    taskQueue: options.taskQueue,
    queryTimeoutMs: tuning.temporalQueryTimeoutMs,
    commandTimeoutMs: tuning.temporalCommandTimeoutMs,
  });
  const apps = createAppService(stores, transact);
  const signingKeys = createSigningKeyService({ stores, transact, apps, overlapMs: tuning.signingKeyOverlapMs });
  const segments = createSegmentService(stores, apps, transact);
  const policies = createAppPolicyService(stores, apps);
  const telemetry = createTelemetryService({
    snapshot,
    store: createTelemetryStore(pool),
    metrics,
    maxBatch: tuning.telemetryMaxBatch,
    maxQueued: tuning.telemetryMaxQueued,
    rollups: tuning.insightRollups,
  });
  const profiles = createDeviceProfiles({ store: stores.deviceProfiles, logger, metrics, ...tuning.deviceProfiles });
  const devices = createDeviceService({
    stores,
    snapshot,
    telemetry,
    profiles,
    limiter: createRateLimiter(tuning.deviceRateLimit),
    sources: createSourceLimiter(tuning.sourceLimit),
    metrics,
    maxSelfAssignmentsPerApp: tuning.selfAssignment.maxPerApp,
  });
  const releases = createReleaseService({
    stores,
    transact,
    apps,
    policies,
    rollouts,
    withdrawal: createReleaseWithdrawal(transact),
    segmentsOf: (appId) => segments.summaries(appId),
    metrics,
    logger,
  });
  const apiKeys = withCachedAuthentication(createApiKeyService({ stores, transact, metrics, logger }), tuning.apiKeyCache);
  snapshot.onApiKeysChanged(() => apiKeys.forgetAll());
  const deps: AppDeps = {
    trustProxy: tuning.trustProxy,
    database: stores.health,
    logger,
    registry,
    metrics,
    snapshot,
    rollouts,
    apiKeys,
    audit: createAuditService(stores),
    apps,
    bundles: createBundleService(stores, apps, transact),
    policies,
    releases,
    experiments: createExperimentService({ stores, releases, rollouts, metrics }),
    insights: createInsightService({ stores, rollouts, insight: stores.insight }),
    webhooks: createWebhookService({ stores, apps, transact, allowPrivate: tuning.webhooksAllowPrivate }),
    signingKeys,
    telemetry,
    channels: createChannelService(stores, apps, transact),
    segments,
    deviceStories: createDeviceStoryService({ stores, apps, snapshot }),
    devices,
    capgo: createCapgoDeviceService({ devices }),
    expoUpdates: createExpoUpdatesSource(stores),
    expoSigning: createExpoCodeSigning({ stores, transact, apps }),
    unavailableRetryAfterSeconds: tuning.unavailableRetryAfterSeconds,
    segmentNotifications: stores.segmentNotifications,
    releaseEvents: createReleaseEvents({ snapshot, metrics, ...tuning.releaseEvents }),
    uiDir: options.uiDir ?? defaultUiDir(),
  };
  return {
    app: createApp(deps),
    deps,
    async start() {
      // Before the snapshot loads: it then holds every app's signing key.
      const keyed = await signingKeys.ensureKeys();
      if (keyed.length > 0) logger.info({ apps: keyed.length }, 'generated signing keys for apps that had none');
      const sealed = await deps.webhooks.sealPlaintext();
      if (sealed > 0) logger.info({ webhooks: sealed }, 'sealed webhook URLs and secrets stored in the clear');
      await snapshot.start();
      profiles.start();
    },
    closeStreams: () => deps.releaseEvents.closeAll(),
    async stop() {
      deps.releaseEvents.closeAll();
      await deps.telemetry.drain();
      await profiles.stop();
      await snapshot.stop();
    },
  };
}
