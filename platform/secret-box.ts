import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const SECRETS_KEY_BYTES = 32;

/**
 * Seals credentials stored in PostgreSQL (webhook URLs and secrets, signing keys) with AES-256-GCM
 * and a random nonce per value, so a database dump or backup does not hand them out.
 */
export interface SecretBox {
  seal(plaintext: string): string;
  /** Values written before sealing existed are plaintext; they are read as they are. */
  open(stored: string): string;
  isSealed(stored: string): boolean;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== SECRETS_KEY_BYTES) throw new Error(`the secrets key must be ${SECRETS_KEY_BYTES} bytes, not ${key.length}`);
  const isSealed = (stored: string) => stored.startsWith(PREFIX);
  return {
    isSealed,
    seal(plaintext) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${nonce.toString('base64url')}:${body.toString('base64url')}`;
    },
    open(stored) {
      if (!isSealed(stored)) return stored;
      const [nonce, body] = stored.slice(PREFIX.length).split(':').map((part) => Buffer.from(part, 'base64url'));
      if (!nonce || !body || body.length < TAG_BYTES) throw new Error('malformed sealed value');
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}

export function newSecretsKey(): Buffer {
  return randomBytes(SECRETS_KEY_BYTES);
}
