/** Durations in milliseconds, the unit of every time in Rampart. */
export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Whole days from `fromMs` to `nowMs` (0 for a time in the future): segment rules' `daysSinceFirstSeen`. */
export function daysSince(fromMs: number, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - fromMs) / DAY_MS));
}
