import { windowStartOf } from '../domain/plan';

/** How long a telemetry write may take at most for its rows to still count. */
const MIN_SETTLE_MS = 500;

/**
 * The latest windows may still receive a batch that is being written (see the telemetry service):
 * a gate reads only windows that ended a settling time ago, at least one window.
 */
export function settledWindowEnd(input: { from: number; to: number; windowMs: number }): number {
  const settled = input.to - Math.max(input.windowMs, MIN_SETTLE_MS);
  return Math.max(input.from, windowStartOf(settled, input.windowMs));
}
