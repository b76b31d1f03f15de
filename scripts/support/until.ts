/**
 * Polls `read` until `done` accepts what it returned, and fails naming what it waited for and the
 * last value it saw: a timeout then says what the system did instead, not only that it was slow.
 */
export async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, { timeoutMs = 30_000, everyMs = 100 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last saw ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls `fn` until it yields a value (not undefined), or fails naming what it waited for. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  return (await waitFor(what, fn, (value) => value !== undefined, { timeoutMs, everyMs })) as T;
}
