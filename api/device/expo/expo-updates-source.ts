import type { Stores } from '../../../db/create-stores';
import { createBoundedCache } from '../../../domain/bounded-cache';
import type { ExpoUpdate } from '../../../domain/expo-manifest';
import type { ExpoReissue } from '../../../db/stores/bundle-store';

// Bundles and update ids never change once written, so what was read is remembered; the bound keeps
// ids made up by devices from growing it without limit.
const CACHE_LIMIT = 10_000;

interface Holder<V> {
  value?: V;
  pending?: Promise<V>;
}

/** A read-through memo of immutable rows: one read per key, retried after a failed read. */
function createAsyncMemo<V>(load: (key: string) => Promise<V>) {
  const cache = createBoundedCache<Holder<V>>(CACHE_LIMIT);
  return (key: string): Promise<V> => {
    const holder = cache.get(key, () => ({}));
    if ('value' in holder) return Promise.resolve(holder.value as V);
    holder.pending ??= load(key).then(
      (value) => {
        holder.value = value;
        delete holder.pending;
        return value;
      },
      (err: unknown) => {
        delete holder.pending;
        throw err;
      },
    );
    return holder.pending;
  };
}

/** What the Expo endpoint reads beyond the rollout snapshot, from memory after the first request. */
export interface ExpoUpdatesSource {
  /** The bundle's manifest for a platform; null when it was not registered for Expo there. */
  update(appId: string, version: string, platform: ExpoUpdate['platform']): Promise<ExpoUpdate | null>;
  /** The bundle an update id names (the bundle's own id or a re-issue) and its manifest's creation time; null: not one of the app's. */
  issueOf(appId: string, updateId: string): Promise<{ version: string; createdAt: string } | null>;
  /** Makes a re-issued manifest's id durable before it is served. */
  recordReissue(reissue: ExpoReissue): Promise<void>;
}

export function createExpoUpdatesSource(stores: Pick<Stores, 'bundles'>): ExpoUpdatesSource {
  const updates = createAsyncMemo((key) => {
    const [appId, version, platform] = key.split('\u0000') as [string, string, ExpoUpdate['platform']];
    return stores.bundles.expoUpdate(appId, version, platform);
  });
  const versions = createAsyncMemo((key) => {
    const [appId, updateId] = key.split('\u0000') as [string, string];
    return stores.bundles.expoIssue(appId, updateId);
  });
  const reissues = createAsyncMemo((key) => {
    const [appId, updateId, version, platform, releaseId, createdAt] = key.split('\u0000') as [string, string, string, ExpoUpdate['platform'], string, string];
    return stores.bundles.recordExpoReissue({ appId, updateId, version, platform, releaseId, createdAt: new Date(createdAt) }).then(() => true);
  });
  return {
    update: (appId, version, platform) => updates(`${appId}\u0000${version}\u0000${platform}`),
    issueOf: (appId, updateId) => versions(`${appId}\u0000${updateId}`),
    async recordReissue(r) {
      await reissues([r.appId, r.updateId, r.version, r.platform, r.releaseId, r.createdAt.toISOString()].join('\u0000'));
    },
  };
}
