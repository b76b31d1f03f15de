import { describe, expect, it } from 'vitest';
import { DEFAULT_APP_POLICY, describeRefusal, policyFindings, policyRefusal } from '../../../domain/app-policy';
import { resolvePlan, type Plan, type PlanInput } from '../../../domain/plan';
import type { SegmentSummary } from '../../../domain/segment';

const segment = (key: string, windowed = false): SegmentSummary => ({
  key,
  maintenanceWindows: windowed ? [{ days: [6], start: '02:00', end: '04:00', timeZone: 'UTC' }] : [],
});
const segments = [segment('beta'), segment('power'), segment('enterprise', true), segment('default')];

function planOf(input: PlanInput | string): Plan {
  const result = resolvePlan(input, segments);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

const staged = (extra: Partial<PlanInput['stages'][number]> = {}): PlanInput => ({
  stages: [
    { segments: ['beta'], exposureBps: 10_000, minSoakMs: 1000 },
    { segments: ['power', 'enterprise', 'default'], exposureBps: 500, minSoakMs: 1000, ...extra },
    { segments: ['power', 'enterprise', 'default'], exposureBps: 10_000, minSoakMs: 1000 },
  ],
});

describe(policyFindings.name, () => {
  it('finds nothing in a staged, gated plan, beta at 100 % first included', () => {
    expect(policyFindings(planOf(staged()))).toEqual([]);
  });

  it('finds disabled gates: a stage with gates: [] or with only dry-run gates', () => {
    expect(policyFindings(planOf(staged({ gates: [] })))).toEqual([{ action: 'disable_gates', path: 'stages[1].gates', message: 'stage "stage 2" has no gates' }]);
    const dryOnly = staged({ gates: [{ kind: 'crashRate', dryRun: true }, { kind: 'ratio', metric: 'crash', dryRun: true }] });
    expect(policyFindings(planOf(dryOnly)).map((f) => f.message)).toEqual(['stage "stage 2" has only dry-run gates']);
    const oneActs = staged({ gates: [{ kind: 'crashRate', dryRun: true }, { kind: 'ratio', metric: 'crash' }] });
    expect(policyFindings(planOf(oneActs))).toEqual([]);
  });

  it('finds a release-wide dry run', () => {
    const plan = { ...staged(), gateSettings: { dryRun: true } };
    expect(policyFindings(planOf(plan))).toEqual([{ action: 'dry_run', path: 'gateSettings.dryRun', message: 'the gates record verdicts but never act' }]);
  });

  it('finds every segment whose first exposure is already 100 %', () => {
    const plan: PlanInput = {
      stages: [
        { segments: ['beta', 'power'], exposureBps: 10_000, minSoakMs: 1000 },
        { segments: ['enterprise', 'default'], exposureBps: 100, minSoakMs: 1000 },
        { segments: ['enterprise', 'default'], exposureBps: 10_000, minSoakMs: 1000 },
      ],
    };
    expect(policyFindings(planOf(plan))).toEqual([{ action: 'skip_stages', path: 'stages[0].exposureBps', message: 'segment "power" goes to 100 % in its first stage' }]);
    const single = policyFindings(planOf({ stages: [{ exposureBps: 10_000, minSoakMs: 0 }] }));
    expect(single.map((f) => f.message)).toEqual(['segment "power" goes to 100 % in its first stage', 'segment "enterprise" goes to 100 % in its first stage', 'segment "default" goes to 100 % in its first stage']);
  });

  it('would flag the default preset for its windowed segment: presets are allowed by the caller, not by this rule', () => {
    expect(policyFindings(planOf('default')).map((f) => f.action)).toEqual(['skip_stages']);
    expect(policyFindings(planOf('apple-phased'))).toEqual([]);
  });
});

describe(policyRefusal.name, () => {
  const findings = policyFindings(planOf({ stages: [{ exposureBps: 10_000, minSoakMs: 0, gates: [] }], gateSettings: { dryRun: true } }));

  it('lets admin and oncall do everything by default, and refuses release and viewer the first action', () => {
    expect(policyRefusal(DEFAULT_APP_POLICY, 'admin', findings)).toBeNull();
    expect(policyRefusal(DEFAULT_APP_POLICY, 'oncall', findings)).toBeNull();
    expect(policyRefusal(DEFAULT_APP_POLICY, 'release', findings)).toMatchObject({ action: 'disable_gates', allowedRoles: ['admin', 'oncall'] });
    expect(policyRefusal(DEFAULT_APP_POLICY, 'release', [])).toBeNull();
  });

  it('follows an app policy that grants some actions to release', () => {
    const policy = { ...DEFAULT_APP_POLICY, disable_gates: ['admin' as const, 'release' as const] };
    const refusal = policyRefusal(policy, 'release', findings);
    expect(refusal).toMatchObject({ action: 'dry_run', findings: [{ path: 'gateSettings.dryRun' }] });
    expect(describeRefusal('com.example.app', 'release', refusal!)).toBe(
      'policy "dry_run" of app com.example.app: only admin, oncall may start a plan that does dry-run gates, and an API key with role "release" may not ' +
        '(gateSettings.dryRun: the gates record verdicts but never act); use a preset plan, or ask one of them',
    );
    expect(describeRefusal('a.b', 'admin', { action: 'skip_stages', allowedRoles: [], findings: [] })).toMatch(/: no role may start a plan that does skip stages/);
  });
});
