import { HOUR_MS, MINUTE_MS } from '../../domain/time';

/** A zone where the quiet hours of `quietNow` hold now, and one where they do not. */
export const QUIET_ZONE = 'UTC';
/** UTC+12, no daylight saving: its clock reads twelve hours later. */
export const AWAKE_ZONE = 'Etc/GMT-12';

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/**
 * Quiet hours from two hours ago to three hours ahead on a UTC wall clock: quiet now in
 * `QUIET_ZONE`, not in `AWAKE_ZONE`; `endsAt` is when quiet devices may be told. No faked clock.
 */
export function quietNow(now = Date.now()): { quietHours: { start: string; end: string }; endsAt: number } {
  return {
    quietHours: { start: hhmm(now - 2 * HOUR_MS), end: hhmm(now + 3 * HOUR_MS) },
    endsAt: Math.floor((now + 3 * HOUR_MS) / MINUTE_MS) * MINUTE_MS,
  };
}
