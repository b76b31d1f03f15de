import type { TrustProxy } from '../platform/config';
import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import type { HealthStore } from '../db/stores/health-store';
import type { Logger } from '../platform/logger';
import { createAppsRoutes } from './admin/apps-routes';
import { createAppPolicyRoutes } from './admin/app-policy-routes';
import { createApiKeysRoutes } from './admin/api-keys-routes';
import { createAuditRoutes } from './admin/audit-routes';
import { createChannelsRoutes } from './admin/channels-routes';
import { createDevicesRoutes } from './admin/devices-routes';
import { createSegmentsRoutes } from './admin/segments-routes';
import { createReleasesRoutes } from './admin/releases-routes';
import { createExperimentsRoutes } from './admin/experiments-routes';
import { createWebhooksRoutes } from './admin/webhooks-routes';
import { createPublicSigningKeyRoutes, createSigningKeyAdminRoutes } from './admin/signing-keys-routes';
import type { ApiMetrics } from './api-metrics';
import { createCodePushRoutes } from './device/codepush/codepush-routes';
import { createNativeDeviceRoutes } from './device/native-routes';
import { createCapgoRoutes } from './device/capgo/capgo-routes';
import { createExpoRoutes } from './device/expo/expo-routes';
import type { ExpoCodeSigning } from './device/expo/expo-code-signing';
import type { ExpoUpdatesSource } from './device/expo/expo-updates-source';
import { createExpoAdminRoutes } from './admin/expo-routes';
import { requireApiKey } from './http/auth';
import { createErrorHandler, notFoundHandler } from './http/error-handler';
import { refuseControlCharactersInPath } from './http/plain-path';
import { requestMetrics } from './http/request-metrics';
import { requireJsonBody } from './http/require-json-body';
import { createOpsRoutes } from './ops-routes';
import { createNotificationDevicesRoutes } from './relay/notification-devices-routes';
import type { SegmentNotificationStore } from '../db/stores/segment-notification-store';
import { createMeRoutes } from './admin/me-routes';
import { listRoutes } from './openapi/list-routes';
import { openApiDocument } from './openapi/openapi-document';
import type { ReleaseEvents } from './release-events';
import { createUiRoutes } from './ui-routes';
import type { ApiKeyService } from './services/api-key-service';
import type { AuditService } from './services/audit-service';
import type { AppService } from './services/app-service';
import type { AppPolicyService } from './services/app-policy-service';
import type { BundleService } from './services/bundle-service';
import type { InsightService } from './services/insight-service';
import type { ExperimentService } from './services/experiment-service';
import type { ReleaseService } from './services/release-service';
import type { RolloutClient } from './services/rollout-client';
import type { WebhookService } from './services/webhook-service';
import type { SigningKeyService } from './services/signing-key-service';
import type { ChannelService } from './services/channel-service';
import type { SegmentService } from './services/segment-service';
import type { DeviceStoryService } from './services/device-story-service';
import type { TelemetryService } from './telemetry/telemetry-service';
import type { DeviceService } from './device/device-service';
import type { CapgoDeviceService } from './device/capgo/capgo-device-service';
import type { RolloutSnapshot } from './snapshot/rollout-snapshot';

export interface AppDeps {
  /** Express `trust proxy`: which forwarded address is the client's (per-source limits, audit). */
  trustProxy: TrustProxy;
  database: HealthStore;
  logger: Logger;
  registry: Registry;
  metrics: ApiMetrics;
  snapshot: RolloutSnapshot;
  rollouts: RolloutClient;
  apiKeys: ApiKeyService;
  audit: AuditService;
  apps: AppService;
  policies: AppPolicyService;
  bundles: BundleService;
  releases: ReleaseService;
  experiments: ExperimentService;
  insights: InsightService;
  webhooks: WebhookService;
  signingKeys: SigningKeyService;
  telemetry: TelemetryService;
  devices: DeviceService;
  capgo: CapgoDeviceService;
  /** Expo manifests and update ids, read through to PostgreSQL once each. */
  expoUpdates: ExpoUpdatesSource;
  expoSigning: ExpoCodeSigning;
  channels: ChannelService;
  segments: SegmentService;
  deviceStories: DeviceStoryService;
  /** What a 503 tells clients to wait before retrying. */
  unavailableRetryAfterSeconds: number;
  releaseEvents: ReleaseEvents;
  /** Where push relays page through a large segment notification's devices. */
  segmentNotifications: SegmentNotificationStore;
  /** The built dashboard (`npm run build`). */
  uiDir: string;
}

const ADMIN_BODY_LIMIT = '1mb';

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.set('etag', false);
  app.use(requestMetrics(deps.metrics));
  app.use(refuseControlCharactersInPath);

  // Device routes first: they carry nearly all the traffic. Each protocol parses its own bodies:
  // limits and error shapes differ between them.
  app.use(createNativeDeviceRoutes(deps));
  app.use(createCapgoRoutes(deps));
  app.use(createCodePushRoutes(deps));
  app.use(createExpoRoutes(deps));

  app.use(createOpsRoutes(deps));
  app.use(createPublicSigningKeyRoutes(deps));
  app.use(createNotificationDevicesRoutes({ stores: deps }));
  app.use(createUiRoutes(deps.uiDir));
  let openApi: ReturnType<typeof openApiDocument> | undefined;
  // Built from the routes the app really has, on first request, when they are all in place.
  app.get('/openapi.json', (_req, res) => {
    openApi ??= openApiDocument(listRoutes(app), '1');
    res.json(openApi);
  });

  const admin = express.Router();
  // The key first: a caller without one must not make the API read (and hold) a megabyte of body.
  admin.use(requireApiKey(deps.apiKeys));
  admin.use(express.json({ limit: ADMIN_BODY_LIMIT }));
  admin.use(requireJsonBody);
  admin.use(createMeRoutes());
  admin.use(createApiKeysRoutes(deps));
  admin.use(createAuditRoutes(deps));
  admin.use(createAppsRoutes(deps));
  admin.use(createExpoAdminRoutes(deps));
  admin.use(createAppPolicyRoutes(deps));
  admin.use(createReleasesRoutes(deps));
  admin.use(createExperimentsRoutes(deps));
  admin.use(createWebhooksRoutes(deps));
  admin.use(createSigningKeyAdminRoutes(deps));
  admin.use(createChannelsRoutes(deps));
  admin.use(createSegmentsRoutes(deps));
  admin.use(createDevicesRoutes(deps));
  app.use(admin);

  app.use(notFoundHandler);
  app.use(createErrorHandler(deps.logger, deps.unavailableRetryAfterSeconds));
  return app;
}
