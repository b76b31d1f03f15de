import { murmur3x86_32 } from './murmur3';

export const BPS_SCALE = 10_000;

export type Cohort = 'canary' | 'control' | 'none';

// TextEncoder is a web global, available inside Temporal's workflow sandbox too; hashing UTF-8
// bytes (not UTF-16 code units) keeps non-ASCII ids compatible with Yggdrasil and the C++ reference.
const utf8 = new TextEncoder();

/** Device ids that cannot identify a device never enter a canary: they would flip between bundles. */
export function isUsableDeviceId(deviceId: string | undefined | null): deviceId is string {
  return typeof deviceId === 'string' && deviceId.trim().length > 0;
}

/** The device's sticky position 0…9999 for one release (salt). */
export function bucketOf(salt: string, deviceId: string): number {
  return murmur3x86_32(utf8.encode(`${salt}:${deviceId}`), 0) % BPS_SCALE;
}

/**
 * Canary when the bucket is below the exposure; the next slice of the same size (capped at the
 * complement) is the randomized control cohort that keeps the baseline.
 */
export function cohortOf(salt: string, deviceId: string | undefined | null, exposureBps: number): Cohort {
  if (!isUsableDeviceId(deviceId) || exposureBps <= 0) return 'none';
  const bucket = bucketOf(salt, deviceId);
  if (bucket < exposureBps) return 'canary';
  if (bucket < Math.min(2 * exposureBps, BPS_SCALE)) return 'control';
  return 'none';
}
