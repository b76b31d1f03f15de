import { describe, expect, it } from 'vitest';
import { createBoundedCache } from '../../../domain/bounded-cache';

describe('createBoundedCache', () => {
  it('computes a key once and remembers falsy answers too', () => {
    const cache = createBoundedCache<number | null>(10);
    let calls = 0;
    const compute = () => {
      calls += 1;
      return null;
    };
    expect(cache.get('a', compute)).toBeNull();
    expect(cache.get('a', compute)).toBeNull();
    expect(calls).toBe(1);
  });

  it('never holds more than its capacity, whatever the keys', () => {
    const cache = createBoundedCache<number>(100);
    for (let i = 0; i < 10_000; i++) cache.get(`junk-${i}`, () => i);
    expect(cache.size).toBeLessThanOrEqual(100);
  });

  it('keeps a key that is still asked for while junk streams through', () => {
    const cache = createBoundedCache<string>(100);
    let hotComputed = 0;
    const hot = () => {
      hotComputed += 1;
      return 'hot';
    };
    for (let i = 0; i < 10_000; i++) {
      cache.get(`junk-${i}`, () => 'junk');
      if (i % 10 === 0) expect(cache.get('hot', hot)).toBe('hot');
    }
    expect(hotComputed).toBe(1);
  });
});
