import { murmur3x86_32 } from './murmur3';

export const BPS_SCALE = 10_000;

export type Cohort = 'canary' | 'control' | 'none';

// TextEncoder is a web global, available inside Temporal's workflow sandbox too; hashing UTF-8
// bytes (not UTF-16 code units) keeps non-ASCII ids compatible with Yggdrasil and the C++ reference.
const utf8 = new TextEncoder();
// Every update check hashes a key; encoding into one reused buffer spares an allocation per check.
const scratch = new Uint8Array(1024);

/** Device ids that cannot identify a device never enter a canary: they would flip between bundles. */
export function isUsableDeviceId(deviceId: string | undefined | null): deviceId is string {
  return typeof deviceId === 'string' && deviceId.trim().length > 0;
}

/** The device's sticky position 0…9999 for one release (salt). */
export function bucketOf(salt: string, deviceId: string): number {
  const key = `${salt}:${deviceId}`;
  // UTF-8 needs at most 3 bytes per UTF-16 code unit, so a key this short always fits.
  const bytes = key.length * 3 <= scratch.length ? scratch.subarray(0, utf8.encodeInto(key, scratch).written) : utf8.encode(key);
  return murmur3x86_32(bytes, 0) % BPS_SCALE;
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
