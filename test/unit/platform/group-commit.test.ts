import { describe, expect, it } from 'vitest';
import { CommitQueueFull, createGroupCommitter } from '../../../platform/group-commit';

/** A write that refuses any batch holding a poisoned item, as PostgreSQL refuses a statement with U+0000. */
function poisonableStore() {
  const written: string[] = [];
  const writes: string[][] = [];
  let release: () => void = () => undefined;
  let gate: Promise<void> | null = null;
  return {
    written,
    writes,
    /** Holds the next write until `open()`, so that submissions pile up behind it. */
    hold() {
      gate = new Promise((resolve) => (release = resolve));
    },
    open: () => release(),
    async write(items: string[]) {
      writes.push(items);
      if (gate) {
        const g = gate;
        gate = null;
        await g;
      }
      if (items.some((i) => i.includes('\u0000'))) throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
      written.push(...items);
    },
  };
}

describe('group commit', () => {
  it('fails only the submission that poisons a shared write; the others are written', async () => {
    const store = poisonableStore();
    const committer = createGroupCommitter<string>((items) => store.write(items), { maxBatch: 100, maxQueued: 1000 });
    store.hold();
    const first = committer.submit(['a']);
    const rest = [committer.submit(['b', 'c']), committer.submit(['bad\u0000']), committer.submit(['d'])];
    store.open();
    const outcomes = await Promise.allSettled([first, ...rest]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ code: '22021' });
    expect(store.written.sort()).toEqual(['a', 'b', 'c', 'd']);
    // The shared write of the three waiting submissions, then each of them alone.
    expect(store.writes.slice(1)).toEqual([['b', 'c', 'bad\u0000', 'd'], ['b', 'c'], ['bad\u0000'], ['d']]);
  });

  it('keeps batching after a split', async () => {
    const store = poisonableStore();
    const committer = createGroupCommitter<string>((items) => store.write(items), { maxBatch: 100, maxQueued: 1000 });
    await expect(committer.submit(['x\u0000'])).rejects.toThrow(/0x00/);
    store.hold();
    const later = [committer.submit(['e']), committer.submit(['f']), committer.submit(['g'])];
    store.open();
    await Promise.all(later);
    expect(store.writes.slice(-2)).toEqual([['e'], ['f', 'g']]);
  });

  it('sheds submissions beyond maxQueued instead of growing, and takes them again once the queue drains', async () => {
    const store = poisonableStore();
    const committer = createGroupCommitter<string>((items) => store.write(items), { maxBatch: 100, maxQueued: 3 });
    store.hold();
    const inFlight = committer.submit(['a']);
    const waiting = [committer.submit(['b', 'c']), committer.submit(['d'])];
    await expect(committer.submit(['e'])).rejects.toBeInstanceOf(CommitQueueFull);
    store.open();
    await Promise.all([inFlight, ...waiting]);
    await committer.submit(['e']);
    expect(store.written.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('fails a whole shared write, without retrying each submission alone, when the failure is not one submission\'s fault', async () => {
    const writes: string[][] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const committer = createGroupCommitter<string>(
      async (items) => {
        writes.push(items);
        if (writes.length === 1) await held;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
      { maxBatch: 100, maxQueued: 100, maySplit: (err) => (err as { code?: string }).code !== 'ECONNREFUSED' },
    );
    const first = committer.submit(['a']);
    const shared = [committer.submit(['b']), committer.submit(['c'])];
    release();
    const outcomes = await Promise.allSettled([first, ...shared]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(writes).toEqual([['a'], ['b', 'c']]);
  });
});
