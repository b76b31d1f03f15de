import { describe, expect, it } from 'vitest';
import { createGroupCommitter } from '../../../platform/group-commit';

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
    const committer = createGroupCommitter<string>((items) => store.write(items), 100);
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
    const committer = createGroupCommitter<string>((items) => store.write(items), 100);
    await expect(committer.submit(['x\u0000'])).rejects.toThrow(/0x00/);
    store.hold();
    const later = [committer.submit(['e']), committer.submit(['f']), committer.submit(['g'])];
    store.open();
    await Promise.all(later);
    expect(store.writes.slice(-2)).toEqual([['e'], ['f', 'g']]);
  });
});
