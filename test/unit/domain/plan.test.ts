import { describe, expect, it } from 'vitest';
import { resolvePlan, type PlanInput } from '../../../domain/plan';
import type { SegmentSummary } from '../../../domain/segment';

const HOUR = 3_600_000;
const segment = (key: string, windowed = false): SegmentSummary => ({
  key,
  maintenanceWindows: windowed ? [{ days: [6], start: '02:00', end: '04:00', timeZone: 'UTC' }] : [],
});
const appSegments = [segment('beta'), segment('power'), segment('new-users'), segment('enterprise', true), segment('default')];

function problemsOf(input: PlanInput | string, segments = [segment('default')], timeScale = 1) {
  const result = resolvePlan(input, segments, timeScale);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe(resolvePlan.name, () => {
  it('builds the default preset: beta first, the general ramp, windowed segments last', () => {
    const result = resolvePlan('default', appSegments);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const stages = result.plan.stages.map((s) => [s.name, s.segments.join('+'), s.exposureBps, s.minSoakMs / HOUR]);
    expect(stages).toEqual([
      ['beta', 'beta', 10_000, 4],
      ['1%', 'power+new-users+default', 100, 4],
      ['5%', 'power+new-users+default', 500, 4],
      ['20%', 'power+new-users+default', 2000, 8],
      ['50%', 'power+new-users+default', 5000, 8],
      ['95%', 'power+new-users+default', 9500, 24],
      ['100%', 'power+new-users+default', 10_000, 0],
      ['maintenance-window', 'enterprise', 10_000, 24],
    ]);
    expect(result.plan.stages[1]).toMatchObject({ checkIntervalMs: 15 * 60_000, maxSoakMs: 48 * HOUR });
    expect(result.plan.stages[6]).toMatchObject({ minSoakMs: 0, maxSoakMs: 48 * HOUR });
    expect(result.plan.stages[7]).toMatchObject({ maxSoakMs: 96 * HOUR });
    expect(result.plan.gateSettings).toEqual({ alpha: 0.01, reportingLagMs: 0, dryRun: false });
  });

  it('builds apple-phased as seven daily stages for every segment', () => {
    const result = resolvePlan('apple-phased', [segment('default'), segment('beta')]);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.plan.stages.map((s) => s.exposureBps)).toEqual([100, 200, 500, 1000, 2000, 5000, 10_000]);
    expect(result.plan.stages.every((s) => s.minSoakMs === 24 * HOUR && s.segments.length === 2)).toBe(true);
  });

  it('scales every duration by timeScale so tests run the same plan in seconds', () => {
    const result = resolvePlan('default', [segment('default')], 0.001);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.plan.stages[0]).toMatchObject({ minSoakMs: 14_400, checkIntervalMs: 900, maxSoakMs: 172_800 });
  });

  it('fills in every segment when a stage names none', () => {
    const result = resolvePlan({ stages: [{ exposureBps: 10_000, minSoakMs: 0 }] }, [segment('default'), segment('power')]);
    expect(result.ok && result.plan.stages[0]!.segments).toEqual(['default', 'power']);
  });

  it('explains what is wrong with a plan', () => {
    expect(problemsOf('fast')).toEqual(['plan: unknown preset "fast"; use one of default, apple-phased or a plan object']);
    expect(problemsOf({ stages: [] })).toContain('stages: a plan needs at least one stage');
    expect(problemsOf({ stages: [{ segments: ['vip'], exposureBps: 10_000, minSoakMs: 0 }] })[0]).toMatch(/unknown segment "vip"/);
    expect(
      problemsOf({
        stages: [
          { exposureBps: 5000, minSoakMs: 1000 },
          { exposureBps: 1000, minSoakMs: 1000 },
          { exposureBps: 10_000, minSoakMs: 1000 },
        ],
      }),
    ).toEqual(['stages[1].exposureBps: exposure of "default" would drop from 5000 to 1000 bps; exposure only grows within a release']);
    expect(problemsOf({ stages: [{ exposureBps: 5000, minSoakMs: 1000 }] })).toEqual([
      'stages: segment "default" never reaches 10000 bps; a plan must end in full rollout for every segment',
    ]);
    expect(
      problemsOf(
        {
          stages: [
            { segments: ['default'], exposureBps: 10_000, minSoakMs: 0 },
            { segments: ['beta'], exposureBps: 10_000, minSoakMs: 0 },
          ],
        },
        [segment('default'), segment('beta')],
      ),
    ).toEqual(['stages[1].segments: the "beta" segment must be exposed in the first stage']);
    expect(problemsOf({ stages: [{ exposureBps: 10_000, minSoakMs: 1000, maxSoakMs: 500 }] })[0]).toMatch(/maxSoakMs: must be between 1000/);
    expect(problemsOf({ stages: [{ exposureBps: 10_000, minSoakMs: 1000, checkIntervalMs: 10 }] })[0]).toMatch(/checkIntervalMs/);
    expect(problemsOf({ stages: [{ exposureBps: 10_000, minSoakMs: 0 }] }, [segment('default')], 0)).toEqual([
      'timeScale: must be between 0.00001 and 100',
    ]);
    expect(problemsOf({ stages: [{ segments: ['default', 'default'], exposureBps: 10_000, minSoakMs: 0 }] })).toContain(
      'stages[0].segments: segment "default" is listed twice',
    );
  });

  it('quotes a refused duration as sent, with the timeScale that scaled it and what to send instead', () => {
    const stage = { exposureBps: 10_000, minSoakMs: 2000 };
    expect(problemsOf({ stages: [{ ...stage, maxSoakMs: 1000 }] }, [segment('default')], 0.001)).toEqual([
      'stages[0].maxSoakMs: must be between 2 and 5184000000 ms after timeScale (sent 1000 × timeScale 0.001 = 1 ms); with timeScale 0.001, send at least 2000',
    ]);
    expect(problemsOf({ stages: [{ ...stage, checkIntervalMs: 50_000 }] }, [segment('default')], 0.001)).toEqual([
      'stages[0].checkIntervalMs: must be between 100 and 86400000 ms after timeScale (sent 50000 × timeScale 0.001 = 50 ms); with timeScale 0.001, send at least 100000',
    ]);
    expect(problemsOf({ stages: [{ ...stage, maxSoakMs: 10_000_000, checkIntervalMs: 1_000_000 }] }, [segment('default')], 100)).toEqual([
      'stages[0].checkIntervalMs: must be between 100 and 86400000 ms after timeScale (sent 1000000 × timeScale 100 = 100000000 ms); with timeScale 100, send at most 864000',
    ]);
    expect(problemsOf({ stages: [{ exposureBps: 10_000, minSoakMs: 50 * 86_400_000 }] })).toEqual([
      'stages[0].maxSoakMs: must be between 4320000000 and 5184000000 ms (not sent; its default came to 17280000000 ms)',
    ]);
  });
});
