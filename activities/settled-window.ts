import type { GateWindowStore } from '../db/stores/gate-window-store';
import { windowStartOf } from '../domain/plan';
import type { ActivityMetrics } from './activity-metrics';

/** The counting windows a gate reads: those starting in `[start, end)`; none when `end === start`. */
export interface SettledWindows {
  start: number;
  end: number;
}

/**
 * The counting windows a gate may read: from the one holding `from` (the gate's cursor) to those
 * that ended by `to` (the workflow's clock, less the reporting lag) and by `barrierAt`, the database's
 * time at the gate's barrier (GateWindowStore.barrier). Every batch that had not committed by the
 * barrier files its rows at a later time, so those windows are complete; no time margin is needed for
 * writes in flight, and none would be a guarantee. The cursor begins where the release did, seldom on
 * a window's edge: the window holding it is read whole once it has ended, or the rows filed in it
 * before that moment would never be counted (the first reports of a release).
 */
export function settledWindows(input: { from: number; to: number; windowMs: number; barrierAt: number }): SettledWindows {
  const start = windowStartOf(input.from, input.windowMs);
  return { start, end: Math.max(start, windowStartOf(Math.min(input.to, input.barrierAt), input.windowMs)) };
}

/**
 * Passes the release's barrier (the wait timed in rampart_gate_barrier_wait_seconds), then answers
 * the windows the gate may read now.
 */
export async function passBarrier(
  deps: { gateWindows: Pick<GateWindowStore, 'barrier'>; metrics: Pick<ActivityMetrics, 'gateBarrierWait'> },
  input: { releaseId: string; from: number; to: number; windowMs: number },
): Promise<SettledWindows> {
  const waited = deps.metrics.gateBarrierWait.startTimer();
  const barrierAt = await deps.gateWindows.barrier(input.releaseId);
  waited();
  return settledWindows({ ...input, barrierAt });
}
