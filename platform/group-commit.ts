export interface GroupCommitter<T> {
  /**
   * Resolves once the items are durable, together with whatever else arrived meanwhile. Rejects at
   * once with `CommitQueueFull` when they would push the items waiting beyond `maxQueued`.
   */
  submit(items: T[]): Promise<void>;
  /** Waits for everything submitted so far. */
  drain(): Promise<void>;
}

export interface GroupCommitOptions {
  /** Items per write. */
  maxBatch: number;
  /** Items waiting behind the write in flight; more are refused rather than held in memory. */
  maxQueued: number;
  /**
   * Whether a failed shared write may be one submission's fault, so that each is retried alone.
   * Default: always. Say no for a database that is down: retrying alone would only multiply the wait.
   */
  maySplit?: (err: unknown) => boolean;
}

/** The queue is full: the caller should shed the submission (503 and Retry-After), not wait. */
export class CommitQueueFull extends Error {
  constructor(readonly queued: number) {
    super(`${queued} items are already waiting to be written`);
    this.name = 'CommitQueueFull';
  }
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
 * The queue is bounded: while the database is slow or down, waiting requests do not pile up in memory.
 */
export function createGroupCommitter<T>(write: (items: T[]) => Promise<void>, options: GroupCommitOptions): GroupCommitter<T> {
  const { maxBatch, maxQueued, maySplit = () => true } = options;
  const queue: Array<Pending<T>> = [];
  let queued = 0;
  let running: Promise<void> | null = null;

  const takeBatch = (): Array<Pending<T>> => {
    const batch: Array<Pending<T>> = [];
    let size = 0;
    while (queue.length > 0 && (batch.length === 0 || size + queue[0]!.items.length <= maxBatch)) {
      const next = queue.shift()!;
      size += next.items.length;
      queued -= next.items.length;
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
        if (batch.length === 1 || !maySplit(err)) for (const p of batch) p.reject(err);
        // One at a time: the split is the rare path, and it must not add to the load that may have caused it.
        else for (const p of batch) await writeAlone(p);
      }
    }
    running = null;
  };

  return {
    submit(items) {
      if (items.length === 0) return Promise.resolve();
      if (queued + items.length > maxQueued) return Promise.reject(new CommitQueueFull(queued));
      queued += items.length;
      const done = new Promise<void>((resolve, reject) => queue.push({ items, resolve, reject }));
      running ??= pump();
      return done;
    },
    async drain() {
      while (running) await running;
    },
  };
}
