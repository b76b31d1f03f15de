/**
 * A memo table with a bounded size, for answers that never change within a process (parsed
 * versions, range checks, time-zone instants) but whose keys come from devices or admins.
 *
 * Two generations instead of a strict LRU: a hit in the current generation costs one lookup, no
 * reordering; when it fills up, it becomes the previous generation and the one before is dropped.
 * What is still asked for is carried over on its next hit, so hot keys survive and the size stays
 * below `capacity`.
 */
export interface BoundedCache<V> {
  /** The remembered value for `key`, computing and remembering it on a miss. */
  get(key: string, compute: () => V): V;
  readonly size: number;
}

export function createBoundedCache<V>(capacity: number): BoundedCache<V> {
  const generation = Math.max(1, Math.floor(capacity / 2));
  let current = new Map<string, V>();
  let previous = new Map<string, V>();

  const remember = (key: string, value: V) => {
    if (current.size >= generation) {
      previous = current;
      current = new Map();
    }
    current.set(key, value);
  };

  return {
    get(key, compute) {
      const known = current.get(key);
      if (known !== undefined || current.has(key)) return known as V;
      const value = previous.has(key) ? (previous.get(key) as V) : compute();
      remember(key, value);
      return value;
    },
    get size() {
      return current.size + previous.size;
    },
  };
}
