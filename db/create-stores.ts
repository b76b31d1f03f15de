import { createChangeFeed } from './change-feed';
import type { Queryable } from './create-pool';
import { createServingReadModel } from './read-models/serving-read-model';
import { createApiKeyStore } from './stores/api-key-store';
import { createAppStore } from './stores/app-store';
import { createAuditStore } from './stores/audit-store';
import { createBundleStore } from './stores/bundle-store';
import { createGateWindowStore } from './stores/gate-window-store';
import { createReleaseStore } from './stores/release-store';
import { createRolloutStateStore } from './stores/rollout-state-store';
import { createWebhookStore } from './stores/webhook-store';

export function createStores(db: Queryable) {
  return {
    apps: createAppStore(db),
    bundles: createBundleStore(db),
    releases: createReleaseStore(db),
    rolloutStates: createRolloutStateStore(db),
    apiKeys: createApiKeyStore(db),
    audit: createAuditStore(db),
    webhooks: createWebhookStore(db),
    gateWindows: createGateWindowStore(db),
    serving: createServingReadModel(db),
    changeFeed: createChangeFeed(db),
  };
}

export type Stores = ReturnType<typeof createStores>;
