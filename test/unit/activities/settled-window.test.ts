import { describe, expect, it } from 'vitest';
import { createActivityMetrics } from '../../../activities/activity-metrics';
import { passBarrier, settledWindows } from '../../../activities/settled-window';
import { createRegistry } from '../../../platform/metrics';

const W = 1000;

describe('settledWindows', () => {
  it('reads every window that ended by the workflow’s time, with no margin when the barrier is later', () => {
    expect(settledWindows({ from: 0, to: 10_300, windowMs: W, barrierAt: 10_400 })).toEqual({ start: 0, end: 10_000 });
    // A window that ends exactly then is complete.
    expect(settledWindows({ from: 0, to: 10_000, windowMs: W, barrierAt: 10_000 })).toEqual({ start: 0, end: 10_000 });
  });

  it('never reads a window that ends after the barrier: a batch may still file rows under it', () => {
    expect(settledWindows({ from: 0, to: 10_300, windowMs: W, barrierAt: 9_999 })).toEqual({ start: 0, end: 9_000 });
  });

  it('never goes back before the window holding the gate’s cursor', () => {
    expect(settledWindows({ from: 10_000, to: 10_300, windowMs: W, barrierAt: 9_500 })).toEqual({ start: 10_000, end: 10_000 });
  });

  it('reads the window holding a cursor off the windows’ edges whole, once it has ended, and not before', () => {
    // A release starts at 10,450: rows filed at 10,400 lie before its cursor but in its first window.
    expect(settledWindows({ from: 10_450, to: 11_200, windowMs: W, barrierAt: 11_300 })).toEqual({ start: 10_000, end: 11_000 });
    expect(settledWindows({ from: 10_450, to: 10_900, windowMs: W, barrierAt: 11_300 })).toEqual({ start: 10_000, end: 10_000 });
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
    const settled = await passBarrier({ gateWindows, metrics }, { releaseId: 'r1', from: 0, to: 10_300, windowMs: W });
    expect(settled).toEqual({ start: 0, end: 7_000 });
    expect(passed).toEqual(['r1']);
    expect((await metrics.gateBarrierWait.get()).values.find((v) => v.metricName === 'rampart_gate_barrier_wait_seconds_count')?.value).toBe(1);
  });
});
