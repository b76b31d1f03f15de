import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createBackgroundLoop, type BackgroundLoopOptions } from '../../../platform/background-loop';
import type { Logger } from '../../../platform/logger';
import { waitFor } from '../../../scripts/support/until';

const HOUR_MS = 3_600_000;

/** Lets every pending callback run: what could have happened by now has. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A promise the test settles by hand. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function recordingLogger() {
  const errors: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const logger = { error: (fields: Record<string, unknown>, message: string) => errors.push({ fields, message }) } as unknown as Logger;
  return { logger, errors };
}

/** A loop whose iterations are counted, with an hour between them unless the test says otherwise: only wake() or an answer moves it on. */
function countingLoop(overrides: Partial<Omit<BackgroundLoopOptions, 'iterate'>> & { iterate?: (n: number) => Promise<number | void> } = {}) {
  const registry = overrides.registry ?? new Registry();
  const { logger, errors } = recordingLogger();
  let iterations = 0;
  let inside = 0;
  let overlapped = false;
  const loop = createBackgroundLoop({
    name: 'test_loop',
    intervalMs: HOUR_MS,
    logger,
    registry,
    ...overrides,
    async iterate() {
      iterations += 1;
      inside += 1;
      if (inside > 1) overlapped = true;
      try {
        return await (overrides.iterate?.(iterations) ?? Promise.resolve());
      } finally {
        inside -= 1;
      }
    },
  });
  return { loop, registry, errors, iterations: () => iterations, overlapped: () => overlapped };
}

const failuresOf = async (registry: Registry, loop: string) =>
  (await registry.getSingleMetric('rampart_background_loop_failures_total')!.get()).values.find((v) => v.labels.loop === loop)?.value ?? 0;

describe(createBackgroundLoop.name, () => {
  it('runs the first iteration before start resolves, then waits its interval (or what the iteration answers)', async () => {
    const first = deferred();
    const t = countingLoop({ iterate: (n) => (n === 1 ? first.promise.then(() => 0) : Promise.resolve(n < 5 ? 0 : undefined)) });
    let started = false;
    const starting = t.loop.start().then(() => (started = true));
    await turn();
    expect(started).toBe(false);
    first.resolve();
    await starting;
    // Answers of 0 run the next iteration at once; the fifth answers nothing: an hour's wait.
    await waitFor('five iterations', () => Promise.resolve(t.iterations()), (n) => n === 5);
    await t.loop.stop();
    expect(t.iterations()).toBe(5);
    expect(t.overlapped()).toBe(false);
  });

  it('wakes from its wait at once, and a wake during an iteration skips the wait after it', async () => {
    const gate = deferred();
    const t = countingLoop({ iterate: (n) => (n === 3 ? gate.promise : Promise.resolve()) });
    await t.loop.start();
    t.loop.wake();
    await waitFor('the woken iteration', () => Promise.resolve(t.iterations()), (n) => n === 2);
    t.loop.wake();
    await waitFor('the third iteration to be running', () => Promise.resolve(t.iterations()), (n) => n === 3);
    t.loop.wake();
    gate.resolve();
    await waitFor('the iteration after the early wake', () => Promise.resolve(t.iterations()), (n) => n === 4);
    await t.loop.stop();
    expect(t.iterations()).toBe(4);
  });

  it('stop waits for the iteration in progress, and nothing runs after it', async () => {
    const gate = deferred();
    const t = countingLoop({ iterate: (n) => (n === 2 ? gate.promise : Promise.resolve(0)) });
    await t.loop.start();
    await waitFor('the second iteration to be running', () => Promise.resolve(t.iterations()), (n) => n === 2);
    let stopped = false;
    const stopping = t.loop.stop().then(() => (stopped = true));
    await turn();
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(t.iterations()).toBe(2);
    t.loop.wake();
    expect(t.iterations()).toBe(2);
  });

  it('logs and counts a failed iteration, waits its interval, and carries on', async () => {
    const t = countingLoop({
      intervalMs: 1,
      iterate: (n) => (n <= 2 ? Promise.reject(new Error(`down ${n}`)) : Promise.resolve(HOUR_MS)),
    });
    await t.loop.start();
    await waitFor('an iteration that works', () => Promise.resolve(t.iterations()), (n) => n === 3);
    await t.loop.stop();
    expect(t.errors.map((e) => [e.fields.loop, (e.fields.err as Error).message])).toEqual([
      ['test_loop', 'down 1'],
      ['test_loop', 'down 2'],
    ]);
    expect(t.errors[0]!.message).toMatch(/test_loop failed/);
    expect(await failuresOf(t.registry, 'test_loop')).toBe(2);
  });

  it('shares one failure metric between the loops of a registry, and starts again after a stop', async () => {
    const registry = new Registry();
    const a = countingLoop({ registry, name: 'a', iterate: () => Promise.reject(new Error('a fails')) });
    const b = countingLoop({ registry, name: 'b' });
    await Promise.all([a.loop.start(), b.loop.start()]);
    await Promise.all([a.loop.stop(), b.loop.stop()]);
    expect([await failuresOf(registry, 'a'), await failuresOf(registry, 'b')]).toEqual([1, 0]);

    await b.loop.start();
    expect(b.iterations()).toBe(2);
    await b.loop.stop();
  });
});
