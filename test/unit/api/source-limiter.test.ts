import { describe, expect, it } from 'vitest';
import { createSourceLimiter } from '../../../api/device/source-limiter';

const options = { windowMs: 60_000, newDevicesPerWindow: 3, eventsPerWindow: 10, maxSources: 2, exemptLoopback: true };

describe('source limiter', () => {
  it('refuses new device ids beyond the window budget, and says when the window ends', () => {
    const limiter = createSourceLimiter(options);
    for (let i = 0; i < 3; i++) expect(limiter.take('203.0.113.1', true, 1, 1000)).toEqual({ allowed: true });
    expect(limiter.take('203.0.113.1', true, 1, 1000)).toEqual({ allowed: false, limit: 'new_devices', retryAfterSeconds: 59 });
    expect(limiter.take('203.0.113.1', false, 1, 1000)).toEqual({ allowed: true });
    expect(limiter.take('203.0.113.1', true, 1, 60_000)).toEqual({ allowed: true });
  });

  it('counts events, and never limits loopback when exempt', () => {
    const limiter = createSourceLimiter(options);
    expect(limiter.take('198.51.100.2', false, 10, 0).allowed).toBe(true);
    expect(limiter.take('198.51.100.2', false, 1, 0)).toMatchObject({ allowed: false, limit: 'events' });
    for (let i = 0; i < 100; i++) expect(limiter.take('127.0.0.1', true, 10, 0).allowed).toBe(true);
    expect(createSourceLimiter({ ...options, exemptLoopback: false }).take('::1', false, 11, 0).allowed).toBe(false);
  });

  it('keeps at most maxSources budgets: the oldest window is forgotten first', () => {
    const limiter = createSourceLimiter(options);
    for (let i = 0; i < 3; i++) limiter.take('a', true, 1, 0);
    limiter.take('b', true, 1, 0);
    limiter.take('c', true, 1, 0);
    // `a` was forgotten: its budget starts again.
    expect(limiter.take('a', true, 1, 0).allowed).toBe(true);
  });
});
