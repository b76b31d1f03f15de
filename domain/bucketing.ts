import { murmur3x86_32 } from './murmur3';

export const BPS_SCALE = 10_000;

export type Cohort = 'canary' | 'control' | 'none';

// TextEncoder is a web global, available inside Temporal's workflow sandbox too; hashing UTF-8
// bytes (not UTF-16 code units) keeps non-ASCII ids compatible with Yggdrasil and the C++ reference.
const utf8 = new TextEncoder();
// Every update check hashes a key; encoding into one reused buffer spares allocations per check.
const scratch = new Uint8Array(1024);

/** Device ids that cannot identify a device never enter a canary: they would flip between bundles. */
export function isUsableDeviceId(deviceId: string | undefined | null): deviceId is string {
  return typeof deviceId === 'string' && deviceId.trim().length > 0;
}

const COLON = 0x3a;

/** Writes an ASCII string's bytes at `offset`; -1 as soon as a character is not ASCII. */
function writeAscii(text: string, offset: number): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return -1;
    scratch[offset + i] = code;
  }
  return offset + text.length;
}

/** The device's sticky position 0…9999 for one release (salt): murmur3 of the UTF-8 bytes of `salt:deviceId`. */
export function bucketOf(salt: string, deviceId: string): number {
  // Salts and ids are ASCII in practice: their bytes are their code units, written straight into the
  // scratch buffer, without building the key string or a view of the buffer.
  const length = salt.length + 1 + deviceId.length;
  if (length <= scratch.length) {
    const afterSalt = writeAscii(salt, 0);
    if (afterSalt >= 0) {
      scratch[afterSalt] = COLON;
      if (writeAscii(deviceId, afterSalt + 1) >= 0) return murmur3x86_32(scratch, 0, length) % BPS_SCALE;
    }
  }
  const key = `${salt}:${deviceId}`;
  // UTF-8 needs at most 3 bytes per UTF-16 code unit, so a key this short always fits.
  if (key.length * 3 <= scratch.length) return murmur3x86_32(scratch, 0, utf8.encodeInto(key, scratch).written) % BPS_SCALE;
  return murmur3x86_32(utf8.encode(key), 0) % BPS_SCALE;
}

/**
 * The control slice mirrors the canary slice, capped at the complement: telemetry, the gates and
 * the simulator must all agree on where it ends, or control devices would be miscounted.
 */
export function controlSliceBps(exposureBps: number): number {
  return Math.max(0, Math.min(exposureBps, BPS_SCALE - exposureBps));
}

/**
 * Canary when the bucket is below the exposure; the next slice of the same size (capped at the
 * complement) is the randomized control cohort that keeps the baseline.
 */
export function cohortOf(salt: string, deviceId: string | undefined | null, exposureBps: number): Cohort {
  if (!isUsableDeviceId(deviceId) || exposureBps <= 0) return 'none';
  const bucket = bucketOf(salt, deviceId);
  if (bucket < exposureBps) return 'canary';
  if (bucket < exposureBps + controlSliceBps(exposureBps)) return 'control';
  return 'none';
}
