import type { DeviceRateLimitConfig } from '../../platform/config';
import { createDeviceTable } from './device-table';

export type RateVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  take(appId: string, deviceId: string, now?: number): RateVerdict;
  /** Whether the device has a bucket here: a device this instance has not met recently is new to it. */
  knows(appId: string, deviceId: string): boolean;
}

const TOKENS = 0;
const UPDATED_AT = 1;
const ALLOWED: RateVerdict = { allowed: true };

/**
 * A token bucket per device of each app, in memory: each API instance limits what it serves, so a
 * misbehaving device cannot starve the others. Buckets are two numbers in a device table (nothing
 * per device on the JS heap); the oldest are forgotten once there are too many.
 */
export function createRateLimiter(options: DeviceRateLimitConfig): RateLimiter {
  const buckets = createDeviceTable(options.maxDevices, { numbers: 2 });
  return {
    knows: (appId, deviceId) => buckets.find(appId, deviceId) >= 0,
    take(appId, deviceId, now = Date.now()) {
      let bucket = buckets.find(appId, deviceId);
      if (bucket < 0) {
        bucket = buckets.add(appId, deviceId);
        buckets.set(bucket, TOKENS, options.burst);
        buckets.set(bucket, UPDATED_AT, now);
      }
      const tokens = Math.min(options.burst, buckets.get(bucket, TOKENS) + ((now - buckets.get(bucket, UPDATED_AT)) / 1000) * options.perSecond);
      buckets.set(bucket, UPDATED_AT, now);
      if (tokens >= 1) {
        buckets.set(bucket, TOKENS, tokens - 1);
        return ALLOWED;
      }
      buckets.set(bucket, TOKENS, tokens);
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / options.perSecond)) };
    },
  };
}
