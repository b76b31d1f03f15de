import { describe, expect, it } from 'vitest';
import { createMembershipCache } from '../../../db/stores/rollup-store';
import { foldRollups, ROLLUP_SET_BITS, type RollupEvent } from '../../../domain/insight';

const T0 = Date.UTC(2026, 11, 2, 10, 3, 0);
const event = (over: Partial<RollupEvent>): RollupEvent => ({
  appId: 'a',
  releaseId: 'r',
  segment: 'default',
  cohort: 'canary',
  deviceId: 'd1',
  type: 'session_start',
  onRelease: false,
  occurredAtMs: T0,
  details: null,
  ...over,
});

describe('membership cache', () => {
  it('skips only memberships remembered as committed, per bucket and with every set known', () => {
    const cache = createMembershipCache();
    const first = foldRollups([event({})]);
    expect(cache.unknown(first)).toBe(first);
    cache.remember(first.memberships);
    expect(cache.unknown(foldRollups([event({})])).memberships).toEqual([]);
    // A new set of a known device, a new device, a new bucket: all still written.
    const next = cache.unknown(foldRollups([event({ type: 'crash' }), event({ deviceId: 'd2' }), event({ occurredAtMs: T0 + 3_600_000 })]));
    const { active, crashed } = ROLLUP_SET_BITS;
    expect(next.memberships.map((m) => `${m.stepMs}:${m.bucketStart - T0}:${m.deviceId}:${m.sets}`).sort()).toEqual([
      `300000:-180000:d1:${active | crashed}`,
      `300000:-180000:d2:${active}`,
      `300000:3420000:d1:${active}`,
      `3600000:-180000:d1:${active | crashed}`,
      `3600000:-180000:d2:${active}`,
      `3600000:3420000:d1:${active}`,
    ]);
    expect(next.counters).toHaveLength(4);
  });

  it('forgets the buckets that end first once it holds too many devices', () => {
    const cache = createMembershipCache(3);
    const old = foldRollups([event({ deviceId: 'x' })]);
    cache.remember(old.memberships);
    cache.remember(foldRollups([event({ deviceId: 'y', occurredAtMs: T0 + 3_600_000 })]).memberships);
    expect(cache.size()).toBeLessThanOrEqual(3);
    expect(cache.unknown(old).memberships.filter((m) => m.stepMs === 300_000)).toHaveLength(1);
  });
});
