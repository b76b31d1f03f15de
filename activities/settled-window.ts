import type { GateWindowStore } from '../db/stores/gate-window-store';
import { windowStartOf } from '../domain/plan';
import type { ActivityMetrics } from './activity-metrics';

/**
 * The end of the counting windows a gate may read: those that ended by `to` (the workflow's clock,
 * less the reporting lag) and by `barrierAt`, the database's time at the gate's barrier
 * (GateWindowStore.barrier). Every batch that had not committed by the barrier files its rows at a
 * later time, so those windows are complete; no time margin is needed for writes in flight, and none
 * would be a guarantee. Never before `from` (the gate's cursor).
 */
export function settledWindowEnd(input: { from: number; to: number; windowMs: number; barrierAt: number }): number {
  return Math.max(input.from, windowStartOf(Math.min(input.to, input.barrierAt), input.windowMs));
}

/**
 * Passes the release's barrier (the wait timed in rampart_gate_barrier_wait_seconds), then answers
 * the end of the windows the gate may read now.
 */
export async function passBarrier(
  deps: { gateWindows: Pick<GateWindowStore, 'barrier'>; metrics: Pick<ActivityMetrics, 'gateBarrierWait'> },
  input: { releaseId: string; from: number; to: number; windowMs: number },
): Promise<number> {
  const waited = deps.metrics.gateBarrierWait.startTimer();
  const barrierAt = await deps.gateWindows.barrier(input.releaseId);
  waited();
  return settledWindowEnd({ ...input, barrierAt });
}
