import type { Principal } from '../../domain/access';
import type { Bundle } from '../../domain/bundle';
import { ConflictError } from '../../domain/errors/conflict-error';
import { ValidationError } from '../../domain/errors/validation-error';
import type { Stores, Transactor } from '../../db/create-stores';
import type { NewBundle, NewExpoUpdate } from '../../db/stores/bundle-store';
import type { ExpoUpdate } from '../../domain/expo-manifest';
import { runtimeAsNativeRange } from '../../domain/expo-runtime';
import type { CreateExpoBundle } from '../device/expo/expo-schemas';
import { expoUpdateId } from '../device/expo/expo-update-ids';
import { auditByKey } from './app-audit';
import type { AppService } from './app-service';

export interface BundleService {
  create(bundle: NewBundle, principal: Principal): Promise<Bundle>;
  list(appId: string, principal: Principal): Promise<Bundle[]>;
  /** A bundle for Expo apps: one manifest per platform, its runtime version as the native range. */
  createExpo(appId: string, input: CreateExpoBundle, principal: Principal): Promise<{ bundle: Bundle; updates: ExpoUpdate[] }>;
  listExpo(appId: string, principal: Principal): Promise<ExpoUpdate[]>;
}

function httpsRequired(path: string): ValidationError {
  const problem = 'must be an https URL (create the app with allowHttpBundles to serve plain http)';
  return new ValidationError(`${path} ${problem}`, [{ path, message: problem }]);
}

const hexOfBase64url = (hash: string) => Buffer.from(hash, 'base64url').toString('hex');

async function insertAudited(tx: Stores, bundle: NewBundle, principal: Principal, details: Record<string, unknown>): Promise<Bundle> {
  const created = await tx.bundles.insert(bundle);
  if (!created) {
    throw new ConflictError(`app ${bundle.appId} has a bundle ${bundle.version} already; bundles are immutable, upload a new version`, 'bundle_exists');
  }
  await auditByKey(tx, principal, { action: 'bundle.create', target: `bundle:${bundle.appId}@${bundle.version}`, appId: bundle.appId, reason: null, details });
  return created;
}

export function createBundleService(stores: Pick<Stores, 'bundles'>, apps: AppService, transact: Transactor): BundleService {
  return {
    async create(bundle, principal) {
      const app = await apps.get(bundle.appId, principal);
      if (!app.allowHttpBundles && new URL(bundle.url).protocol !== 'https:') throw httpsRequired('url');
      return transact((tx) => insertAudited(tx, bundle, principal, { url: bundle.url, sha256: bundle.sha256, size: bundle.size }));
    },
    async createExpo(appId, input, principal) {
      const app = await apps.get(appId, principal);
      const platforms = Object.entries(input.platforms).flatMap(([platform, update]) => (update ? [{ platform: platform as ExpoUpdate['platform'], update }] : []));
      if (!app.allowHttpBundles) {
        for (const { platform, update } of platforms) {
          [update.launchAsset, ...update.assets].forEach((asset, i) => {
            if (new URL(asset.url).protocol !== 'https:') throw httpsRequired(i === 0 ? `platforms.${platform}.launchAsset.url` : `platforms.${platform}.assets.${i - 1}.url`);
          });
        }
      }
      const first = platforms[0]!.update.launchAsset;
      const bundle: NewBundle = {
        appId,
        version: input.version,
        // What the other protocols would fetch: the launch asset of the first platform.
        url: first.url,
        sha256: hexOfBase64url(first.hash),
        size: input.size,
        platforms: platforms.map((p) => p.platform),
        nativeRange: runtimeAsNativeRange(input.runtimeVersion),
        sessionKey: null,
        encryptedChecksum: null,
        signature: null,
        notes: input.notes ?? null,
      };
      const updates: NewExpoUpdate[] = platforms.map(({ platform, update }) => ({
        appId,
        version: input.version,
        platform,
        updateId: expoUpdateId(appId, input.version, platform),
        runtimeVersion: input.runtimeVersion,
        launchAsset: update.launchAsset,
        assets: update.assets,
        metadata: input.metadata,
        extra: input.extra,
        assetRequestHeaders: update.assetRequestHeaders,
      }));
      const details = { expo: { runtimeVersion: input.runtimeVersion, updates: updates.map((u) => ({ platform: u.platform, updateId: u.updateId, assets: u.assets.length + 1 })) }, size: input.size };
      const created = await transact(async (tx) => {
        const inserted = await insertAudited(tx, bundle, principal, details);
        await tx.bundles.insertExpoUpdates(updates);
        return inserted;
      });
      return { bundle: created, updates: updates.map((u) => ({ ...u, createdAt: created.createdAt })) };
    },
    async listExpo(appId, principal) {
      await apps.get(appId, principal);
      return stores.bundles.listExpoUpdates(appId);
    },
    async list(appId, principal) {
      await apps.get(appId, principal);
      return stores.bundles.list(appId);
    },
  };
}
