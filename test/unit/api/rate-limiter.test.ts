import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../../api/device/rate-limiter';

describe(createRateLimiter.name, () => {
  it('allows a burst, then refuses with the seconds until the next token', () => {
    const limiter = createRateLimiter({ perSecond: 0.5, burst: 3, maxDevices: 100 });
    const t = 1_000_000;
    expect([1, 2, 3].map(() => limiter.take('app', 'd1', t).allowed)).toEqual([true, true, true]);
    expect(limiter.take('app', 'd1', t)).toEqual({ allowed: false, retryAfterSeconds: 2 });
  });

  it('refills at the configured rate, never above the burst', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 2, maxDevices: 100 });
    const t = 1_000_000;
    limiter.take('app', 'd1', t);
    limiter.take('app', 'd1', t);
    expect(limiter.take('app', 'd1', t + 500).allowed).toBe(false);
    expect(limiter.take('app', 'd1', t + 1500).allowed).toBe(true);
    const later = t + 60_000;
    expect([1, 2, 3].map(() => limiter.take('app', 'd1', later).allowed)).toEqual([true, true, false]);
  });

  it('limits each device of each app on its own', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, maxDevices: 100 });
    const t = 1_000_000;
    expect(limiter.take('app', 'd1', t).allowed).toBe(true);
    expect(limiter.take('app', 'd1', t).allowed).toBe(false);
    expect(limiter.take('app', 'd2', t).allowed).toBe(true);
    expect(limiter.take('other-app', 'd1', t).allowed).toBe(true);
  });

  it('forgets the oldest buckets beyond its capacity, starting them full again', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, maxDevices: 2 });
    const t = 1_000_000;
    limiter.take('app', 'd1', t);
    limiter.take('app', 'd2', t);
    limiter.take('app', 'd3', t);
    expect(limiter.take('app', 'd1', t).allowed).toBe(true);
    expect(limiter.take('app', 'd3', t).allowed).toBe(false);
  });
});
