import type { Counter, Registry } from 'prom-client';
import type { Logger } from './logger';
import { createCounter } from './metrics';

const FAILURES_METRIC = 'rampart_background_loop_failures_total';

export interface BackgroundLoop {
  /** Runs the first iteration and resolves when it is done (a failed one included); the others follow by themselves. */
  start(): Promise<void>;
  /** Cuts the wait before the next iteration short: new work was announced (a NOTIFY) or capacity freed up. */
  wake(): void;
  /** No iteration starts after this; resolves once the one running has finished. */
  stop(): Promise<void>;
}

export interface BackgroundLoopOptions {
  /** Names the loop in its logs and in the `loop` label of the failure metric. */
  name: string;
  /** One iteration; it answers the wait before the next one in ms (0: at once), `intervalMs` when it answers nothing. */
  iterate: () => Promise<number | void>;
  /** The wait after an iteration that answers nothing, and after a failed one. */
  intervalMs: number;
  logger: Logger;
  /** The process's registry; every loop of the process counts its failures in the same metric. */
  registry: Registry;
}

function failuresMetric(registry: Registry): Counter<'loop'> {
  const existing = registry.getSingleMetric(FAILURES_METRIC) as Counter<'loop'> | undefined;
  return existing ?? createCounter(registry, FAILURES_METRIC, 'Iterations of background loops (outbox, notifications, reconciler, retention) that failed, by loop', ['loop']);
}

/**
 * A job the worker runs beside its Temporal worker: one iteration at a time, never two at once; a
 * failed iteration is logged, counted and followed by the next one after the interval; the waits
 * never keep the process alive; stopping waits for the iteration in progress.
 */
export function createBackgroundLoop(options: BackgroundLoopOptions): BackgroundLoop {
  const { name, logger } = options;
  const failures = failuresMetric(options.registry);
  let running = false;
  let loop: Promise<void> | null = null;
  let firstDone: Promise<void> = Promise.resolve();
  let endWait: (() => void) | null = null;
  // A wake that arrives during an iteration skips the wait after it: the announced work may have come too late for it.
  let woken = false;

  const iteration = async (): Promise<number> => {
    try {
      return (await options.iterate()) ?? options.intervalMs;
    } catch (err) {
      failures.inc({ loop: name });
      logger.error({ err, loop: name }, `${name} failed; trying again in ${options.intervalMs} ms`);
      return options.intervalMs;
    }
  };

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0 || woken || !running) {
        woken = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        endWait = null;
        resolve();
      }
      endWait = done;
    });

  const run = async (first: () => void) => {
    let waitMs = await iteration();
    first();
    while (running) {
      await wait(waitMs);
      if (!running) return;
      waitMs = await iteration();
    }
  };

  return {
    start() {
      if (loop) return firstDone;
      running = true;
      woken = false;
      firstDone = new Promise((resolve) => {
        loop = run(resolve);
      });
      return firstDone;
    },
    wake() {
      if (endWait) endWait();
      else woken = true;
    },
    async stop() {
      running = false;
      endWait?.();
      await loop;
      loop = null;
    },
  };
}
