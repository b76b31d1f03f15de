import type { Bundle, Platform } from '../../domain/bundle';
import type { Queryable } from '../create-pool';

const COLUMNS = 'b.app_id, b.version, b.url, b.sha256, b.size, b.platforms, b.native_range, b.session_key, b.encrypted_checksum, b.signature, b.notes, b.created_at';

interface BundleRow {
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

function mapRow(row: BundleRow): Bundle {
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

export interface BundleStore {
  /** Returns null when the app already has a bundle with that version (bundles are immutable). */
  insert(bundle: NewBundle): Promise<Bundle | null>;
  get(appId: string, version: string): Promise<Bundle | null>;
  list(appId: string): Promise<Bundle[]>;
}

export function createBundleStore(db: Queryable): BundleStore {
  return {
    async insert(b) {
      const { rows } = await db.query<BundleRow>(
        `INSERT INTO bundles AS b (app_id, version, url, sha256, size, platforms, native_range, session_key, encrypted_checksum, signature, notes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (app_id, version) DO NOTHING
         RETURNING ${COLUMNS}`,
        [b.appId, b.version, b.url, b.sha256, b.size, b.platforms, b.nativeRange, b.sessionKey, b.encryptedChecksum, b.signature, b.notes],
      );
      return rows[0] ? mapRow(rows[0]) : null;
    },
    async get(appId, version) {
      const { rows } = await db.query<BundleRow>(`SELECT ${COLUMNS} FROM bundles b WHERE b.app_id = $1 AND b.version = $2`, [
        appId,
        version,
      ]);
      return rows[0] ? mapRow(rows[0]) : null;
    },
    async list(appId) {
      const { rows } = await db.query<BundleRow>(`SELECT ${COLUMNS} FROM bundles b WHERE b.app_id = $1 ORDER BY b.created_at DESC`, [
        appId,
      ]);
      return rows.map(mapRow);
    },
  };
}
