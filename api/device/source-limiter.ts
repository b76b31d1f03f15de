import type { SourceLimitConfig } from '../../platform/config';

export type SourceLimit = 'new_devices' | 'events';

export type SourceVerdict = { allowed: true } | { allowed: false; limit: SourceLimit; retryAfterSeconds: number };

export interface SourceLimiter {
  /**
   * Counts a request of `events` events from `source` (one new device id when `newDevice`), unless it
   * would exceed the source's budget of the current window.
   */
  take(source: string, newDevice: boolean, events: number, now?: number): SourceVerdict;
}

interface Budget {
  windowStart: number;
  newDevices: number;
  events: number;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * Per-source limits of the telemetry trust model: one address cannot bring more than so many device
 * ids new to this instance, nor so many events, per window. Fixed windows, a few numbers per source,
 * at most `maxSources` sources (the least recently started window goes first).
 */
export function createSourceLimiter(options: SourceLimitConfig): SourceLimiter {
  const budgets = new Map<string, Budget>();
  const budgetOf = (source: string, now: number): Budget => {
    const windowStart = Math.floor(now / options.windowMs) * options.windowMs;
    const current = budgets.get(source);
    if (current?.windowStart === windowStart) return current;
    // Re-inserted at each new window: the map's order is then the age of each source's window.
    budgets.delete(source);
    if (budgets.size >= options.maxSources) budgets.delete(budgets.keys().next().value!);
    const fresh = { windowStart, newDevices: 0, events: 0 };
    budgets.set(source, fresh);
    return fresh;
  };
  const over = (limit: number, used: number, adding: number) => limit > 0 && adding > 0 && used + adding > limit;

  return {
    take(source, newDevice, events, now = Date.now()) {
      if (options.exemptLoopback && LOOPBACK.test(source)) return { allowed: true };
      const budget = budgetOf(source, now);
      const refused = over(options.eventsPerWindow, budget.events, events) ? 'events' : over(options.newDevicesPerWindow, budget.newDevices, newDevice ? 1 : 0) ? 'new_devices' : null;
      if (refused !== null) return { allowed: false, limit: refused, retryAfterSeconds: Math.max(1, Math.ceil((budget.windowStart + options.windowMs - now) / 1000)) };
      budget.events += events;
      if (newDevice) budget.newDevices += 1;
      return { allowed: true };
    },
  };
}
