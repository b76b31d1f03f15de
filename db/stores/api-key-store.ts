import type { Principal, Role } from '../../domain/access';
import type { Queryable } from '../create-pool';

const COLUMNS = 'k.id, k.name, k.role, k.app_ids, k.created_at, k.revoked_at';

interface ApiKeyRow {
  id: string;
  name: string;
  role: Role;
  app_ids: string[] | null;
  created_at: Date;
  revoked_at: Date | null;
}

export interface ApiKey extends Principal {
  createdAt: string;
  revokedAt: string | null;
}

function mapRow(row: ApiKeyRow): ApiKey {
  return {
    keyId: row.id,
    name: row.name,
    role: row.role,
    appIds: row.app_ids,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

export interface NewApiKey {
  id: string;
  name: string;
  keyHash: string;
  role: Role;
  appIds: string[] | null;
}

export interface ApiKeyStore {
  findActiveByHash(keyHash: string): Promise<ApiKey | null>;
  insert(key: NewApiKey): Promise<ApiKey>;
  /** Inserts unless a key with that id exists; returns whether it inserted. */
  insertIfAbsent(key: NewApiKey): Promise<boolean>;
  /** Creates or re-points a key with a fixed id (the bootstrap key from the environment). */
  upsert(key: NewApiKey): Promise<void>;
  list(): Promise<ApiKey[]>;
  revoke(id: string): Promise<ApiKey | null>;
}

export function createApiKeyStore(db: Queryable): ApiKeyStore {
  return {
    async findActiveByHash(keyHash) {
      const { rows } = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys k WHERE k.key_hash = $1 AND k.revoked_at IS NULL`, [keyHash]);
      return rows[0] ? mapRow(rows[0]) : null;
    },
    async insert(key) {
      const { rows } = await db.query<ApiKeyRow>(
        `INSERT INTO api_keys AS k (id, name, key_hash, role, app_ids) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [key.id, key.name, key.keyHash, key.role, key.appIds],
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
    async upsert(key) {
      await db.query(
        `INSERT INTO api_keys (id, name, key_hash, role, app_ids) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET key_hash = EXCLUDED.key_hash, role = EXCLUDED.role, app_ids = EXCLUDED.app_ids, revoked_at = NULL`,
        [key.id, key.name, key.keyHash, key.role, key.appIds],
      );
    },
    async list() {
      const { rows } = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys k ORDER BY k.created_at`);
      return rows.map(mapRow);
    },
    async revoke(id) {
      const { rows } = await db.query<ApiKeyRow>(
        `UPDATE api_keys AS k SET revoked_at = COALESCE(k.revoked_at, now()) WHERE k.id = $1 RETURNING ${COLUMNS}`,
        [id],
      );
      return rows[0] ? mapRow(rows[0]) : null;
    },
  };
}
