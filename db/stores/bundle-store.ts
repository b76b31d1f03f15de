import type { Bundle, Platform } from '../../domain/bundle';
import type { ExpoAsset, ExpoLaunchAsset, ExpoUpdate } from '../../domain/expo-manifest';
import type { Queryable } from '../create-pool';

export const BUNDLE_COLUMNS = 'b.app_id, b.version, b.url, b.sha256, b.size, b.platforms, b.native_range, b.session_key, b.encrypted_checksum, b.signature, b.notes, b.created_at';

export interface BundleRow {
  app_id: string;
  version: string;
  url: string;
  sha256: string;
  size: number;
  platforms: Platform[];
  native_range: string;
  session_key: string | null;
  encrypted_checksum: string | null;
  signature: string | null;
  notes: string | null;
  created_at: Date;
}

export function mapBundleRow(row: BundleRow): Bundle {
  return {
    appId: row.app_id,
    version: row.version,
    url: row.url,
    sha256: row.sha256,
    size: row.size,
    platforms: row.platforms,
    nativeRange: row.native_range,
    sessionKey: row.session_key,
    encryptedChecksum: row.encrypted_checksum,
    signature: row.signature,
    notes: row.notes,
    createdAt: row.created_at.toISOString(),
  };
}

export type NewBundle = Omit<Bundle, 'createdAt'>;

const EXPO_COLUMNS =
  'e.app_id, e.version, e.platform, e.update_id, e.runtime_version, e.launch_asset, e.assets, e.metadata, e.extra, e.asset_request_headers, b.created_at';

interface ExpoRow {
  app_id: string;
  version: string;
  platform: ExpoUpdate['platform'];
  update_id: string;
  runtime_version: string;
  launch_asset: ExpoLaunchAsset;
  assets: ExpoAsset[];
  metadata: Record<string, string>;
  extra: Record<string, unknown>;
  asset_request_headers: Record<string, Record<string, string>>;
  created_at: Date;
}

function mapExpoRow(row: ExpoRow): ExpoUpdate {
  return {
    appId: row.app_id,
    version: row.version,
    platform: row.platform,
    updateId: row.update_id,
    runtimeVersion: row.runtime_version,
    launchAsset: row.launch_asset,
    assets: row.assets,
    metadata: row.metadata,
    extra: row.extra,
    assetRequestHeaders: row.asset_request_headers,
    createdAt: row.created_at.toISOString(),
  };
}

/** One platform's manifest of a bundle registered for Expo; its creation time is the bundle's. */
export type NewExpoUpdate = Omit<ExpoUpdate, 'createdAt'>;

export interface ExpoReissue {
  updateId: string;
  appId: string;
  version: string;
  platform: ExpoUpdate['platform'];
  releaseId: string;
  createdAt: Date;
}

export interface BundleStore {
  /** Returns null when the app already has a bundle with that version (bundles are immutable). */
  insert(bundle: NewBundle): Promise<Bundle | null>;
  get(appId: string, version: string): Promise<Bundle | null>;
  list(appId: string): Promise<Bundle[]>;
  /** Adds the per-platform Expo manifests of a bundle inserted in the same transaction. */
  insertExpoUpdates(updates: NewExpoUpdate[]): Promise<void>;
  /** null: the bundle has no Expo manifest for that platform (it was not registered for Expo). */
  expoUpdate(appId: string, version: string, platform: ExpoUpdate['platform']): Promise<ExpoUpdate | null>;
  /**
   * The bundle an update id (the bundle's own or a re-issue of it) stands for, and the creation time
   * its manifest carried; null: not one of the app's.
   */
  expoIssue(appId: string, updateId: string): Promise<{ version: string; createdAt: string } | null>;
  /** Records a re-issued manifest before it is served; the same id twice is a no-op. */
  recordExpoReissue(reissue: ExpoReissue): Promise<void>;
  /** The Expo manifests of the app's bundles, by version then platform. */
  listExpoUpdates(appId: string): Promise<ExpoUpdate[]>;
}

export function createBundleStore(db: Queryable): BundleStore {
  return {
    async insert(b) {
      const { rows } = await db.query<BundleRow>(
        `INSERT INTO bundles AS b (app_id, version, url, sha256, size, platforms, native_range, session_key, encrypted_checksum, signature, notes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (app_id, version) DO NOTHING
         RETURNING ${BUNDLE_COLUMNS}`,
        [b.appId, b.version, b.url, b.sha256, b.size, b.platforms, b.nativeRange, b.sessionKey, b.encryptedChecksum, b.signature, b.notes],
      );
      return rows[0] ? mapBundleRow(rows[0]) : null;
    },
    async get(appId, version) {
      const { rows } = await db.query<BundleRow>(`SELECT ${BUNDLE_COLUMNS} FROM bundles b WHERE b.app_id = $1 AND b.version = $2`, [
        appId,
        version,
      ]);
      return rows[0] ? mapBundleRow(rows[0]) : null;
    },
    async list(appId) {
      const { rows } = await db.query<BundleRow>(`SELECT ${BUNDLE_COLUMNS} FROM bundles b WHERE b.app_id = $1 ORDER BY b.created_at DESC`, [
        appId,
      ]);
      return rows.map(mapBundleRow);
    },
    async insertExpoUpdates(updates) {
      for (const u of updates) {
        await db.query(
          `INSERT INTO expo_updates (app_id, version, platform, update_id, runtime_version, launch_asset, assets, metadata, extra, asset_request_headers)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            u.appId,
            u.version,
            u.platform,
            u.updateId,
            u.runtimeVersion,
            JSON.stringify(u.launchAsset),
            JSON.stringify(u.assets),
            JSON.stringify(u.metadata),
            JSON.stringify(u.extra),
            JSON.stringify(u.assetRequestHeaders),
          ],
        );
      }
    },
    async expoUpdate(appId, version, platform) {
      const { rows } = await db.query<ExpoRow>(
        `SELECT ${EXPO_COLUMNS} FROM expo_updates e JOIN bundles b ON b.app_id = e.app_id AND b.version = e.version
         WHERE e.app_id = $1 AND e.version = $2 AND e.platform = $3`,
        [appId, version, platform],
      );
      return rows[0] ? mapExpoRow(rows[0]) : null;
    },
    async expoIssue(appId, updateId) {
      const { rows } = await db.query<{ version: string; created_at: Date }>(
        `SELECT e.version, b.created_at FROM expo_updates e JOIN bundles b ON b.app_id = e.app_id AND b.version = e.version
         WHERE e.app_id = $1 AND e.update_id = $2::uuid
         UNION ALL
         SELECT r.version, r.created_at FROM expo_update_reissues r WHERE r.app_id = $1 AND r.update_id = $2::uuid
         LIMIT 1`,
        [appId, updateId],
      );
      return rows[0] ? { version: rows[0].version, createdAt: rows[0].created_at.toISOString() } : null;
    },
    async recordExpoReissue(r) {
      await db.query(
        `INSERT INTO expo_update_reissues (update_id, app_id, version, platform, release_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (update_id) DO NOTHING`,
        [r.updateId, r.appId, r.version, r.platform, r.releaseId, r.createdAt],
      );
    },
    async listExpoUpdates(appId) {
      const { rows } = await db.query<ExpoRow>(
        `SELECT ${EXPO_COLUMNS} FROM expo_updates e JOIN bundles b ON b.app_id = e.app_id AND b.version = e.version
         WHERE e.app_id = $1 ORDER BY e.version, e.platform`,
        [appId],
      );
      return rows.map(mapExpoRow);
    },
  };
}
