import { API_KEYS_CHANGED_PAYLOAD, APP_CHANGED_CHANNEL } from '../change-feed';
import type { Principal, Role } from '../../domain/access';
import type { Queryable } from '../create-pool';

const COLUMNS = 'k.id, k.name, k.role, k.app_ids, k.created_at, k.revoked_at, k.expires_at, k.last_used_at';

interface ApiKeyRow {
  id: string;
  name: string;
  role: Role;
  app_ids: string[] | null;
  created_at: Date;
  revoked_at: Date | null;
  expires_at: Date | null;
  last_used_at: Date | null;
}

export interface ApiKey extends Principal {
  createdAt: string;
  revokedAt: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

function mapRow(row: ApiKeyRow): ApiKey {
  return {
    keyId: row.id,
    name: row.name,
    role: row.role,
    appIds: row.app_ids,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
    expiresAt: row.expires_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}

export interface NewApiKey {
  id: string;
  name: string;
  keyHash: string;
  role: Role;
  appIds: string[] | null;
  expiresAt?: Date | null;
}

/** What applying the configured bootstrap key did. */
export type BootstrapOutcome = 'created' | 'rotated' | 'unchanged' | 'revoked';

export interface ApiKeyStore {
  /** The key with this hash, revoked or expired ones included: the caller says which it is. */
  findByHash(keyHash: string): Promise<ApiKey | null>;
  insert(key: NewApiKey): Promise<ApiKey>;
  /** Inserts unless a key with that id exists; returns whether it inserted. */
  insertIfAbsent(key: NewApiKey): Promise<boolean>;
  /**
   * Creates or re-points a key with a fixed id (the bootstrap key from the environment), except a
   * revoked one: revoked stays revoked. Locks the row, so run it in a transaction.
   */
  applyBootstrap(key: NewApiKey): Promise<BootstrapOutcome>;
  list(): Promise<ApiKey[]>;
  revoke(id: string): Promise<ApiKey | null>;
  /** Notes that the key was used, unless that was noted less than `minIntervalMs` ago. */
  touch(id: string, minIntervalMs: number): Promise<void>;
}

export function createApiKeyStore(db: Queryable): ApiKeyStore {
  return {
    async findByHash(keyHash) {
      const { rows } = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys k WHERE k.key_hash = $1`, [keyHash]);
      return rows[0] ? mapRow(rows[0]) : null;
    },
    async insert(key) {
      const { rows } = await db.query<ApiKeyRow>(
        `INSERT INTO api_keys AS k (id, name, key_hash, role, app_ids, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [key.id, key.name, key.keyHash, key.role, key.appIds, key.expiresAt ?? null],
      );
      return mapRow(rows[0]!);
    },
    async insertIfAbsent(key) {
      const { rowCount } = await db.query(
        `INSERT INTO api_keys (id, name, key_hash, role, app_ids) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
        [key.id, key.name, key.keyHash, key.role, key.appIds],
      );
      return rowCount === 1;
    },
    async applyBootstrap(key) {
      const { rows } = await db.query<{ same_hash: boolean; revoked: boolean }>(
        'SELECT k.key_hash = $2 AS same_hash, k.revoked_at IS NOT NULL AS revoked FROM api_keys k WHERE k.id = $1 FOR UPDATE',
        [key.id, key.keyHash],
      );
      const existing = rows[0];
      if (existing?.revoked) return 'revoked';
      if (existing?.same_hash) return 'unchanged';
      if (existing) {
        await db.query('UPDATE api_keys AS k SET key_hash = $2, role = $3, app_ids = $4, expires_at = NULL WHERE k.id = $1', [key.id, key.keyHash, key.role, key.appIds]);
        return 'rotated';
      }
      const { rowCount } = await db.query(
        'INSERT INTO api_keys (id, name, key_hash, role, app_ids) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING',
        [key.id, key.name, key.keyHash, key.role, key.appIds],
      );
      // Another instance starting at the same moment inserted it first.
      return rowCount === 1 ? 'created' : 'unchanged';
    },
    async list() {
      const { rows } = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys k ORDER BY k.created_at`);
      return rows.map(mapRow);
    },
    async revoke(id) {
      // The notification goes out on commit, with the revocation: other instances drop their cached keys.
      const { rows } = await db.query<ApiKeyRow>(
        `WITH revoked AS (
           UPDATE api_keys AS k SET revoked_at = COALESCE(k.revoked_at, now()) WHERE k.id = $1 RETURNING ${COLUMNS}
         )
         SELECT r.*, pg_notify($2, $3) AS notified FROM revoked r`,
        [id, APP_CHANGED_CHANNEL, API_KEYS_CHANGED_PAYLOAD],
      );
      return rows[0] ? mapRow(rows[0]) : null;
    },
    async touch(id, minIntervalMs) {
      await db.query(
        `UPDATE api_keys AS k SET last_used_at = now()
          WHERE k.id = $1 AND (k.last_used_at IS NULL OR k.last_used_at < now() - make_interval(secs => $2::double precision / 1000))`,
        [id, minIntervalMs],
      );
    },
  };
}
