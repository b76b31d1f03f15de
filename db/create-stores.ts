import type { SecretBox } from '../platform/secret-box';
import { createChangeFeed } from './change-feed';
import { withTransaction, type Pool, type Queryable } from './create-pool';
import { createAppAdoptionReadModel } from './read-models/app-adoption-read-model';
import { createInsightReadModel } from './read-models/insight-read-model';
import { createServingReadModel } from './read-models/serving-read-model';
import { createApiKeyStore } from './stores/api-key-store';
import { createAppPolicyStore } from './stores/app-policy-store';
import { createAppStore } from './stores/app-store';
import { createAuditStore } from './stores/audit-store';
import { createBundleStore } from './stores/bundle-store';
import { createChannelOverrideStore } from './stores/channel-override-store';
import { createChannelStore } from './stores/channel-store';
import { createDeviceEventStore } from './stores/device-event-store';
import { createDeviceProfileStore } from './stores/device-profile-store';
import { createExperimentStore } from './stores/experiment-store';
import { createExpoSigningStore } from './stores/expo-signing-store';
import { createGateWindowStore } from './stores/gate-window-store';
import { createHealthStore } from './stores/health-store';
import { createReleaseStore } from './stores/release-store';
import { createRolloutRevertStore } from './stores/rollout-revert-store';
import { createRolloutStateStore } from './stores/rollout-state-store';
import { createSegmentBundleStore } from './stores/segment-bundle-store';
import { createSegmentNotificationStore } from './stores/segment-notification-store';
import { createSegmentStore } from './stores/segment-store';
import { createSigningKeyStore } from './stores/signing-key-store';
import { createWebhookOutboxStore } from './stores/webhook-outbox-store';
import { createWebhookStore } from './stores/webhook-store';

/** `secrets` seals the credentials some stores keep (webhook URLs and secrets, signing keys). */
export function createStores(db: Queryable, secrets: SecretBox) {
  return {
    apps: createAppStore(db),
    appPolicies: createAppPolicyStore(db),
    bundles: createBundleStore(db),
    channels: createChannelStore(db),
    segments: createSegmentStore(db),
    segmentBundles: createSegmentBundleStore(db),
    segmentNotifications: createSegmentNotificationStore(db),
    overrides: createChannelOverrideStore(db),
    deviceProfiles: createDeviceProfileStore(db),
    deviceEvents: createDeviceEventStore(db),
    releases: createReleaseStore(db),
    experiments: createExperimentStore(db),
    rolloutStates: createRolloutStateStore(db),
    rolloutReverts: createRolloutRevertStore(db),
    apiKeys: createApiKeyStore(db),
    audit: createAuditStore(db),
    webhooks: createWebhookStore(db, secrets),
    webhookOutbox: createWebhookOutboxStore(db, secrets),
    signingKeys: createSigningKeyStore(db, secrets),
    expoSigning: createExpoSigningStore(db, secrets),
    gateWindows: createGateWindowStore(db),
    health: createHealthStore(db),
    serving: createServingReadModel(db, secrets),
    insight: createInsightReadModel(db),
    appAdoption: createAppAdoptionReadModel(db),
    changeFeed: createChangeFeed(db),
  };
}

export type Stores = ReturnType<typeof createStores>;

/** Runs `fn` with stores bound to one transaction: all of its writes commit together or not at all. */
export type Transactor = <T>(fn: (stores: Stores) => Promise<T>) => Promise<T>;

export function createTransactor(pool: Pool, secrets: SecretBox): Transactor {
  return (fn) => withTransaction(pool, (client) => fn(createStores(client, secrets)));
}
