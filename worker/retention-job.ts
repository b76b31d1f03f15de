import type { TelemetryStore } from '../db/stores/telemetry-store';
import type { Logger } from '../platform/logger';
import { DAY_MS } from '../domain/time';

const BATCH = 10_000;

export interface RetentionJob {
  start(): void;
  stop(): Promise<void>;
  /** One pass: deletes in batches until nothing older than the retention is left. */
  runOnce(now?: number): Promise<number>;
}

/**
 * Keeps raw device events (and the device-windows of finished releases) for a bounded time. Every
 * worker runs it; the deletes are idempotent, so several workers only share the work.
 */
export function createRetentionJob(deps: { telemetry: TelemetryStore; logger: Logger; retentionDays: number; intervalMs: number; onDeleted?: (rows: number) => void }): RetentionJob {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;

  const runOnce = async (now = Date.now()) => {
    const cutoff = new Date(now - deps.retentionDays * DAY_MS);
    let total = 0;
    for (;;) {
      const deleted = await deps.telemetry.purge(cutoff, BATCH);
      total += deleted;
      deps.onDeleted?.(deleted);
      if (deleted < BATCH) return total;
    }
  };

  return {
    runOnce,
    start() {
      timer = setInterval(() => {
        running ??= runOnce()
          .catch((err: unknown) => {
            deps.logger.error({ err }, 'telemetry retention failed');
            return 0;
          })
          .finally(() => (running = null));
      }, deps.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
