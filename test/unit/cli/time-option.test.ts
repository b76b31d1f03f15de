import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/command-context';
import { timeOption } from '../../../cli/time-option';

describe(timeOption.name, () => {
  const now = Date.parse('2030-01-10T12:00:00Z');

  it('takes spans back (--since) or forward (--expires) from now, and ISO times as they are', () => {
    expect(timeOption('24h', 'since', -1, now)).toBe('2030-01-09T12:00:00.000Z');
    expect(timeOption('30m', 'since', -1, now)).toBe('2030-01-10T11:30:00.000Z');
    expect(timeOption('90d', 'expires', 1, now)).toBe('2030-04-10T12:00:00.000Z');
    expect(timeOption('2030-01-31T00:00:00+01:00', 'expires', 1, now)).toBe('2030-01-30T23:00:00.000Z');
  });

  it('refuses anything else as a usage mistake naming the option', () => {
    expect(() => timeOption('yesterday', 'since', -1, now)).toThrow(UsageError);
    expect(() => timeOption('12', 'since', -1, now)).toThrow(/--since takes a time/);
  });
});
