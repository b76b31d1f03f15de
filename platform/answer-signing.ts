import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';

/** The header every device update-check answer carries. */
export const SIGNATURE_HEADER = 'x-rampart-signature';

export interface SigningKeyPair {
  /** Raw 32-byte Ed25519 public key, base64url: what `GET /v1/apps/:appId/signing-key` publishes. */
  publicKey: string;
  /** PKCS#8 PEM; sealed before it is stored. */
  privateKeyPem: string;
}

export function newSigningKeyPair(): SigningKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return { publicKey: jwk.x!, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

/** Signs exact body bytes: `ed25519;keyid=<id>;sig=<base64url detached signature>`. */
export type AnswerSigner = (body: Buffer) => string;

export function createAnswerSigner(keyId: string, privateKeyPem: string): AnswerSigner {
  // Parsed once per signer (the snapshot makes one on an app's first answer), not per answer.
  const key = createPrivateKey(privateKeyPem);
  return (body) => `ed25519;keyid=${keyId};sig=${sign(null, body, key).toString('base64url')}`;
}
