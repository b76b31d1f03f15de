import type { DeviceRateLimitConfig } from '../../platform/config';
import { createDeviceMap } from './device-map';

export type RateVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  take(appId: string, deviceId: string, now?: number): RateVerdict;
  /** Whether the device has a bucket here: a device this instance has not met recently is new to it. */
  knows(appId: string, deviceId: string): boolean;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A token bucket per device of each app, in memory: each API instance limits what it serves, so a
 * misbehaving device cannot starve the others. The oldest buckets are forgotten once there are too many.
 */
export function createRateLimiter(options: DeviceRateLimitConfig): RateLimiter {
  const buckets = createDeviceMap<Bucket>(options.maxDevices);
  return {
    knows: (appId, deviceId) => buckets.get(appId, deviceId) !== undefined,
    take(appId, deviceId, now = Date.now()) {
      let bucket = buckets.get(appId, deviceId);
      if (!bucket) {
        bucket = { tokens: options.burst, updatedAt: now };
        buckets.set(appId, deviceId, bucket);
      }
      bucket.tokens = Math.min(options.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * options.perSecond);
      bucket.updatedAt = now;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / options.perSecond)) };
    },
  };
}
