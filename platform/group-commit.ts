export interface GroupCommitter<T> {
  /** Resolves once the items are durable, together with whatever else arrived meanwhile. */
  submit(items: T[]): Promise<void>;
  /** Waits for everything submitted so far. */
  drain(): Promise<void>;
}

interface Pending<T> {
  items: T[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: while one write is in flight, everything submitted meanwhile waits and goes out
 * as the next single write. Idle, a submission is written at once (no added latency); under load,
 * writes grow to `maxBatch` items and their number stays bounded by the database's round trips.
 * A write must be all or nothing: when a shared one fails, each submission of it is written alone,
 * so one bad submission fails only itself and never the others it happened to share a write with.
 */
export function createGroupCommitter<T>(write: (items: T[]) => Promise<void>, maxBatch: number): GroupCommitter<T> {
  const queue: Array<Pending<T>> = [];
  let running: Promise<void> | null = null;

  const takeBatch = (): Array<Pending<T>> => {
    const batch: Array<Pending<T>> = [];
    let size = 0;
    while (queue.length > 0 && (batch.length === 0 || size + queue[0]!.items.length <= maxBatch)) {
      const next = queue.shift()!;
      size += next.items.length;
      batch.push(next);
    }
    return batch;
  };

  const writeAlone = async (pending: Pending<T>) => {
    try {
      await write(pending.items);
      pending.resolve();
    } catch (err) {
      pending.reject(err);
    }
  };

  const pump = async () => {
    while (queue.length > 0) {
      const batch = takeBatch();
      try {
        await write(batch.flatMap((p) => p.items));
        for (const p of batch) p.resolve();
      } catch (err) {
        if (batch.length === 1) batch[0]!.reject(err);
        // One at a time: the split is the rare path, and it must not add to the load that may have caused it.
        else for (const p of batch) await writeAlone(p);
      }
    }
    running = null;
  };

  return {
    submit(items) {
      if (items.length === 0) return Promise.resolve();
      const done = new Promise<void>((resolve, reject) => queue.push({ items, resolve, reject }));
      running ??= pump();
      return done;
    },
    async drain() {
      while (running) await running;
    },
  };
}
