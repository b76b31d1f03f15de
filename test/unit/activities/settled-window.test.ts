import { describe, expect, it } from 'vitest';
import { createActivityMetrics } from '../../../activities/activity-metrics';
import { passBarrier, settledWindowEnd } from '../../../activities/settled-window';
import { createRegistry } from '../../../platform/metrics';

const W = 1000;

describe('settledWindowEnd', () => {
  it('reads every window that ended by the workflow’s time, with no margin when the barrier is later', () => {
    expect(settledWindowEnd({ from: 0, to: 10_300, windowMs: W, barrierAt: 10_400 })).toBe(10_000);
    // A window that ends exactly then is complete.
    expect(settledWindowEnd({ from: 0, to: 10_000, windowMs: W, barrierAt: 10_000 })).toBe(10_000);
  });

  it('never reads a window that ends after the barrier: a batch may still file rows under it', () => {
    expect(settledWindowEnd({ from: 0, to: 10_300, windowMs: W, barrierAt: 9_999 })).toBe(9_000);
  });

  it('never goes back before the gate’s cursor', () => {
    expect(settledWindowEnd({ from: 10_000, to: 10_300, windowMs: W, barrierAt: 9_500 })).toBe(10_000);
  });
});

describe('passBarrier', () => {
  it('passes the release’s barrier, times the wait, and reads no further than the barrier’s time', async () => {
    const metrics = createActivityMetrics(createRegistry('test', false));
    const passed: string[] = [];
    const gateWindows = {
      barrier: (releaseId: string) => {
        passed.push(releaseId);
        return Promise.resolve(7_500);
      },
    };
    const end = await passBarrier({ gateWindows, metrics }, { releaseId: 'r1', from: 0, to: 10_300, windowMs: W });
    expect(end).toBe(7_000);
    expect(passed).toEqual(['r1']);
    expect((await metrics.gateBarrierWait.get()).values.find((v) => v.metricName === 'rampart_gate_barrier_wait_seconds_count')?.value).toBe(1);
  });
});
