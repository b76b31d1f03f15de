import type { SecretBox } from '../../platform/secret-box';
import type { Queryable } from '../create-pool';

export interface ExpoSigningKey {
  appId: string;
  /** The `keyid` of expo-updates' code-signing metadata. */
  keyId: string;
  certificatePem: string;
  privateKeyPem: string;
  createdAt: string;
}

interface KeyRow {
  app_id: string;
  key_id: string;
  certificate_pem: string;
  private_key: string;
  created_at: Date;
}

export interface ExpoSigningStore {
  /** Keeps the first key an app gets: a concurrent second insert changes nothing. */
  insert(key: Omit<ExpoSigningKey, 'createdAt'>): Promise<void>;
  get(appId: string): Promise<ExpoSigningKey | null>;
}

/** Private keys are sealed in the row and opened only when read. */
export function createExpoSigningStore(db: Queryable, box: SecretBox): ExpoSigningStore {
  return {
    async insert(key) {
      await db.query(
        `INSERT INTO app_expo_code_signing (app_id, key_id, certificate_pem, private_key) VALUES ($1, $2, $3, $4)
         ON CONFLICT (app_id) DO NOTHING`,
        [key.appId, key.keyId, key.certificatePem, box.seal(key.privateKeyPem)],
      );
    },
    async get(appId) {
      const { rows } = await db.query<KeyRow>(
        'SELECT k.app_id, k.key_id, k.certificate_pem, k.private_key, k.created_at FROM app_expo_code_signing k WHERE k.app_id = $1',
        [appId],
      );
      const row = rows[0];
      return row
        ? { appId: row.app_id, keyId: row.key_id, certificatePem: row.certificate_pem, privateKeyPem: box.open(row.private_key), createdAt: row.created_at.toISOString() }
        : null;
    },
  };
}
