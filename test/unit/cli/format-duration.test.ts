import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../../cli/format-duration';

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [500, '500 ms'],
    [1000, '1 s'],
    [59_999, '59 s'],
    [130_000, '2 m 10 s'],
    [240_000, '4 m'],
    [3_600_000, '1 h'],
    [3_660_000, '1 h 1 m'],
    // Two units at most, rounded down: a countdown never promises more time than is left.
    [3_661_999, '1 h 1 m'],
    [86_400_000 + 4 * 3_600_000, '1 d 4 h'],
    [2 * 86_400_000 + 59_000, '2 d'],
    [-5, '0 ms'],
  ])('%d ms reads "%s"', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
