import type { Logger } from './logger';

export interface PeriodicTask {
  /** Runs a pass now, then every interval. */
  start(): Promise<void>;
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * A background job of the worker: one pass at a time (a pass still running when the next is due is
 * not doubled), a failed pass logged and retried at the next interval, the timer never keeping the
 * process alive.
 */
export function createPeriodicTask(options: { run: () => Promise<unknown>; intervalMs: number; logger: Logger; failure: string }): PeriodicTask {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  const pass = () => {
    running ??= options
      .run()
      .catch((err: unknown) => options.logger.error({ err }, options.failure))
      .finally(() => (running = null));
    return running;
  };
  return {
    async start() {
      await pass();
      timer = setInterval(() => void pass(), options.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
