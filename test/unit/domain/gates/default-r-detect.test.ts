import { describe, expect, it } from 'vitest';
import { defaultRDetect } from '../../../../domain/gates/default-r-detect';

describe(defaultRDetect.name, () => {
  it('follows gates.md §4.8, boundaries inclusive', () => {
    const cases: Array<[number, boolean, number]> = [
      [10_000, true, 3],
      [1, false, 3],
      [100, false, 3],
      [101, false, 2],
      [500, false, 2],
      [501, false, 1.5],
      [2000, false, 1.5],
      [2001, false, 1.3],
      [5000, false, 1.3],
      [10_000, false, 1.3],
    ];
    for (const [bps, beta, expected] of cases) expect(defaultRDetect(bps, beta)).toBe(expected);
  });
});
