import { describe, expect, it } from 'vitest';
import { formatInsights } from '../../../cli/format-insights';
import { insights } from './insights-fixture';

describe('formatInsights', () => {
  it('prints one aligned row per segment: exposure, adoption, time to 95 %, update success, crash-free canary vs control, session p50', () => {
    const lines = formatInsights(insights(), { default: 5000, beta: 100 });
    expect(lines[0]).toBe('release rel-1  com.example.app 1.2.0 on production, running');
    const [header, ...rows] = lines.slice(2);
    expect(rows).toHaveLength(2);
    const columns = (line: string) => line.split(/ {2,}/);
    expect(columns(header!)).toEqual(['segment', 'exposure', 'adoption', 'to 95 %', 'update success (95 % interval)', 'crash-free canary / control', 'session p50 (canary)']);
    // default: 114 of 120 in the latest bucket; 95 % first at the bucket of 10:15, which ends 20 min in.
    expect(columns(rows[0]!)).toEqual(['default', '50.00 %', '95.0 % (114/120)', '20 m', '97.0 % [91.5 %–99.0 %] (97/100)', '99.50 % / 99.00 %', '1 m–2 m']);
    expect(columns(rows[1]!)).toEqual(['beta', '1.00 %', '40.0 % (4/10)', 'not yet', '–', '– / –', '–']);
    // Aligned: every column starts where the header's does.
    expect(rows[0]!.indexOf('50.00 %')).toBe(header!.indexOf('exposure'));
    expect(rows[1]!.indexOf('not yet')).toBe(header!.indexOf('to 95 %'));
    expect(lines.join('\n')).not.toContain('withdrawn');
  });

  it('names the devices still on a withdrawn bundle once the release is rolled back', () => {
    const lines = formatInsights(insights({ status: 'rolled_back' }), { default: 0 });
    expect(lines[0]).toMatch(/, rolled_back$/);
    expect(lines.at(-1)).toBe('still on the withdrawn 1.2.0: default 114 devices, beta 4 devices');
    expect(lines[3]).toMatch(/^default\s+0\.00 %/);
    expect(lines[4]).toMatch(/^beta\s+–/);
  });
});
