import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  convertCertificateToCertificatePEM,
  convertKeyPairPEMToKeyPair,
  generateSelfSignedCodeSigningCertificate,
} from '@expo/code-signing-certificates';
import type { Principal } from '../../../domain/access';
import type { Stores, Transactor } from '../../../db/create-stores';
import { auditAppAction } from '../../services/app-audit';
import type { AppService } from '../../services/app-service';

/** The only algorithm Expo Updates v1 code signing defines. */
export const EXPO_SIGNING_ALGORITHM = 'rsa-v1_5-sha256';
/** expo-updates' default `codeSigningMetadata.keyid`. */
export const EXPO_KEY_ID = 'main';
const CERTIFICATE_YEARS = 10;
const MODULUS_BITS = 2048;
// An app without a key is asked about again after this, so a key made on another instance is found.
const MISSING_KEY_RECHECK_MS = 10_000;

export interface ExpoSigner {
  keyId: string;
  /** Base64 RSASSA-PKCS1-v1_5 SHA-256 signature of the exact bytes. */
  sign(body: Buffer): string;
}

export interface ExpoCertificate {
  appId: string;
  keyId: string;
  algorithm: typeof EXPO_SIGNING_ALGORITHM;
  certificatePem: string;
  createdAt: string;
}

export interface ExpoCodeSigning {
  /** The certificate the app embeds (`updates.codeSigningCertificate`); the app's key pair is made on first request. */
  certificate(appId: string, principal: Principal): Promise<ExpoCertificate>;
  /** The app's signer for device answers; null while the app has no key. */
  signer(appId: string): Promise<ExpoSigner | null>;
}

function newCodeSigningKey(appId: string): { certificatePem: string; privateKeyPem: string } {
  const pair = generateKeyPairSync('rsa', { modulusLength: MODULUS_BITS });
  const privateKeyPem = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const now = new Date();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(now.getUTCFullYear() + CERTIFICATE_YEARS);
  // Expo's own generator: the key usage and code-signing extended key usage expo-updates checks.
  const certificate = generateSelfSignedCodeSigningCertificate({
    keyPair: convertKeyPairPEMToKeyPair({ privateKeyPEM: privateKeyPem, publicKeyPEM: publicKeyPem }),
    validityNotBefore: now,
    validityNotAfter: notAfter,
    commonName: appId,
  });
  return { certificatePem: convertCertificateToCertificatePEM(certificate), privateKeyPem };
}

function signerOf(keyId: string, privateKey: KeyObject): ExpoSigner {
  return { keyId, sign: (body) => sign('sha256', body, privateKey).toString('base64') };
}

export function createExpoCodeSigning(deps: { stores: Pick<Stores, 'expoSigning'>; transact: Transactor; apps: AppService }): ExpoCodeSigning {
  const signers = new Map<string, ExpoSigner>();
  const missingUntil = new Map<string, number>();

  return {
    async certificate(appId, principal) {
      await deps.apps.get(appId, principal);
      let key = await deps.stores.expoSigning.get(appId);
      if (!key) {
        const made = newCodeSigningKey(appId);
        await deps.transact(async (tx) => {
          await tx.expoSigning.insert({ appId, keyId: EXPO_KEY_ID, ...made });
          await auditAppAction(tx, principal, 'expo_code_signing.create', appId, { keyId: EXPO_KEY_ID, algorithm: EXPO_SIGNING_ALGORITHM });
        });
        missingUntil.delete(appId);
        // A concurrent first request may have won: the stored key is the app's key.
        key = (await deps.stores.expoSigning.get(appId))!;
      }
      return { appId, keyId: key.keyId, algorithm: EXPO_SIGNING_ALGORITHM, certificatePem: key.certificatePem, createdAt: key.createdAt };
    },
    async signer(appId) {
      const known = signers.get(appId);
      if (known) return known;
      if ((missingUntil.get(appId) ?? 0) > Date.now()) return null;
      const key = await deps.stores.expoSigning.get(appId);
      if (!key) {
        missingUntil.set(appId, Date.now() + MISSING_KEY_RECHECK_MS);
        return null;
      }
      // Keys are never replaced, so a signer once loaded stays right.
      const signer = signerOf(key.keyId, createPrivateKey(key.privateKeyPem));
      signers.set(appId, signer);
      return signer;
    },
  };
}
