import type { SecretBox } from '../../platform/secret-box';
import type { Queryable } from '../create-pool';

export interface PublishedSigningKey {
  id: string;
  appId: string;
  /** Raw Ed25519 public key, base64url. */
  publicKey: string;
  createdAt: string;
  /** null: the active key. */
  retiredAt: string | null;
  /** A retired key is published until then; null for the active key. */
  publishedUntil: string | null;
}

export interface NewSigningKey {
  id: string;
  appId: string;
  publicKey: string;
  privateKeyPem: string;
}

interface KeyRow {
  id: string;
  app_id: string;
  public_key: string;
  created_at: Date;
  retired_at: Date | null;
  published_until: Date | null;
}

const COLUMNS = 'k.id, k.app_id, k.public_key, k.created_at, k.retired_at, k.published_until';

function mapRow(row: KeyRow): PublishedSigningKey {
  return {
    id: row.id,
    appId: row.app_id,
    publicKey: row.public_key,
    createdAt: row.created_at.toISOString(),
    retiredAt: row.retired_at?.toISOString() ?? null,
    publishedUntil: row.published_until?.toISOString() ?? null,
  };
}

export interface SigningKeyStore {
  /** False when the app has an active key already (one active key per app, enforced by an index). */
  insert(key: NewSigningKey): Promise<boolean>;
  /** The active key first, then retired keys still within their overlap, newest first. */
  published(appId: string): Promise<PublishedSigningKey[]>;
  /** Retires the active key; it stays published until `publishedUntil`. */
  retireActive(appId: string, publishedUntil: Date): Promise<void>;
  /** Apps created before signing keys existed. */
  appsWithoutActiveKey(): Promise<string[]>;
}

/** Private keys are sealed in the row; only the serving read model opens them. */
export function createSigningKeyStore(db: Queryable, box: SecretBox): SigningKeyStore {
  return {
    async insert(key) {
      const { rowCount } = await db.query(
        `INSERT INTO app_signing_keys (id, app_id, public_key, private_key) VALUES ($1, $2, $3, $4)
         ON CONFLICT (app_id) WHERE retired_at IS NULL DO NOTHING`,
        [key.id, key.appId, key.publicKey, box.seal(key.privateKeyPem)],
      );
      return rowCount === 1;
    },
    async published(appId) {
      const { rows } = await db.query<KeyRow>(
        `SELECT ${COLUMNS} FROM app_signing_keys k
         WHERE k.app_id = $1 AND (k.retired_at IS NULL OR k.published_until > now())
         ORDER BY k.retired_at IS NOT NULL, k.created_at DESC`,
        [appId],
      );
      return rows.map(mapRow);
    },
    async retireActive(appId, publishedUntil) {
      await db.query('UPDATE app_signing_keys SET retired_at = now(), published_until = $2 WHERE app_id = $1 AND retired_at IS NULL', [appId, publishedUntil]);
    },
    async appsWithoutActiveKey() {
      const { rows } = await db.query<{ id: string }>(
        'SELECT a.id FROM apps a WHERE NOT EXISTS (SELECT 1 FROM app_signing_keys k WHERE k.app_id = a.id AND k.retired_at IS NULL) ORDER BY a.id',
      );
      return rows.map((r) => r.id);
    },
  };
}
