import { describe, expect, it } from 'vitest';
import { formatExperimentResults, parseArm, parseGuardrails } from '../../../cli/experiment-commands';
import type { ArmResult, ExperimentResults } from '../../../domain/experiment-results';

const arm = (over: Partial<ArmResult>): ArmResult => ({
  key: 'a',
  version: null,
  weight: 1,
  installMode: 'next_launch',
  control: false,
  stopped: false,
  stoppedReason: null,
  guardrail: { verdict: 'continue', findings: [] },
  metricGuardrails: [],
  sample: 300,
  value: 60_000,
  difference: null,
  relative: null,
  verdict: null,
  ...over,
});

const results: ExperimentResults = {
  releaseId: 'x1',
  status: 'paused',
  exposure: { default: 10_000 },
  live: true,
  control: 'a',
  primary: { metric: 'session_duration', direction: 'higher' },
  guardrails: ['crash_free_sessions'],
  metricGuardrails: [],
  alpha: 0.05,
  timeLimitAt: null,
  winner: 'b',
  conclusion: { winner: 'b', at: 0, reason: 'arm b beats a: +8.6 %' },
  promotedArm: null,
  sampleRatio: { observed: [150, 151, 149], expectedShares: [1 / 3, 1 / 3, 1 / 3], pValue: 0.99, mismatch: false },
  lookedAt: 0,
  arms: [
    arm({ key: 'a', control: true, guardrail: { verdict: null, findings: [] } }),
    arm({
      key: 'b',
      version: '1.1.0',
      value: 65_200,
      relative: { estimate: 0.086, lower: 0.008, upper: 0.164 },
      difference: { estimate: 5200, lower: 700, upper: 9800, pValue: 0.01 },
      verdict: 'better',
    }),
    arm({ key: 'c', version: '1.2.0', installMode: 'immediate', stopped: true, stoppedReason: 'crash ratio', verdict: 'inconclusive' }),
  ],
};

describe(parseArm.name, () => {
  it('reads key, version, install mode and weight', () => {
    expect(parseArm('a')).toEqual({ key: 'a' });
    expect(parseArm('b=1.1.0')).toEqual({ key: 'b', version: '1.1.0' });
    expect(parseArm('c=1.1.0:immediate:2')).toEqual({ key: 'c', version: '1.1.0', installMode: 'immediate', weight: 2 });
    expect(() => parseArm('=1.0.0')).toThrow(/key\[=version\]/);
  });
});

describe(parseGuardrails.name, () => {
  it('keeps gate guardrails by name and gives metric guardrails their feature and allowed drop', () => {
    expect(parseGuardrails('crash_free_sessions,session_duration,feature_use:checkout', '5')).toEqual([
      'crash_free_sessions',
      { metric: 'session_duration', maxDropPercent: 5 },
      { metric: 'feature_use', feature: 'checkout', maxDropPercent: 5 },
    ]);
    expect(parseGuardrails('session_duration', undefined)).toEqual([{ metric: 'session_duration', maxDropPercent: 0 }]);
    expect(() => parseGuardrails('session_duration', 'lots')).toThrow(/--max-drop takes a percentage/);
  });
});

describe(formatExperimentResults.name, () => {
  it('shows each arm against the control with its interval, the stopped arm, the split and the conclusion', () => {
    const text = formatExperimentResults(results).join('\n');
    expect(text).toMatch(/primary session_duration \(higher is better\), control a/);
    expect(text).toMatch(/b\s+1\.1\.0\s+next_launch\s+300\s+.+\s+\+8\.6 % \[\+0\.8 %, \+16\.4 %\] better\s+continue/);
    expect(text).toMatch(/c\s+1\.2\.0\s+immediate .*stopped: crash ratio/);
    expect(text).toMatch(/sample ratio: 150 \/ 151 \/ 149 devices, p 0\.990/);
    expect(text).toMatch(/concluded: arm b beats a/);
  });

  it('names the feature of feature_use and shows uses per session', () => {
    const featureResults: ExperimentResults = { ...results, primary: { metric: 'feature_use', direction: 'higher', feature: 'search' }, arms: results.arms.map((a) => ({ ...a, value: a.value === null ? null : 0.25 })) };
    const text = formatExperimentResults(featureResults).join('\n');
    expect(text).toMatch(/primary feature_use of search \(higher is better\)/);
    expect(text).toMatch(/0\.250 uses\/session/);
  });

  it('lists the metric guardrails with their allowance and each running arm against them', () => {
    const guarded: ExperimentResults = {
      ...results,
      metricGuardrails: [
        { metric: 'session_duration', maxDrop: 0.05 },
        { metric: 'feature_use', feature: 'checkout', maxDrop: 0 },
      ],
      arms: results.arms.map((a) =>
        a.key === 'b'
          ? {
              ...a,
              metricGuardrails: [
                { metric: 'session_duration', feature: null, maxDrop: 0.05, harmful: false, sample: 300, relative: { estimate: 0.086, lower: 0.008, upper: 0.164 } },
                { metric: 'feature_use', feature: 'checkout', maxDrop: 0, harmful: true, sample: 300, relative: { estimate: -0.3, lower: -0.45, upper: -0.12 } },
              ],
            }
          : a,
      ),
    };
    const text = formatExperimentResults(guarded).join('\n');
    expect(text).toMatch(/guardrails crash_free_sessions, session_duration \(may drop 5\.0 %\), feature_use of checkout$/m);
    expect(text).toMatch(/continue; session_duration \+8\.6 % \[\+0\.8 %, \+16\.4 %\]; feature_use of checkout -30\.0 % \[-45\.0 %, -12\.0 %\] HARMFUL/);
  });
});
