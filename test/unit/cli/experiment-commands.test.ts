import { describe, expect, it } from 'vitest';
import { formatExperimentResults, parseArm } from '../../../cli/experiment-commands';
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
});
