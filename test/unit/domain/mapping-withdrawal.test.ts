import { describe, expect, it } from 'vitest';
import { bundleRef, servingRelease } from '../../support/fixtures';
import type { GateEvaluation, GateFinding } from '../../../domain/gates/gate-types';
import { initialGateState } from '../../../domain/gates/initial-gate-state';
import type { PlanStage } from '../../../domain/plan';
import { mappingsToWithdraw } from '../../../domain/personalization';
import { applyCommand, applyGateEvaluation, enterStage, initialRolloutState, start, view, type RolloutContext, type RolloutState } from '../../../domain/rollout-machine';
import { buildChannelServing, decide } from '../../../domain/serving';

const stage = (segments: string[], exposureBps: number): PlanStage => ({ name: `${segments.join('+')} ${exposureBps}`, segments, exposureBps, minSoakMs: 1000, maxSoakMs: 4000, checkIntervalMs: 100 });

const ctx: RolloutContext = {
  releaseId: 'r1',
  appId: 'com.example.app',
  channel: 'production',
  version: '2.0.0',
  plan: { stages: [stage(['power', 'new', 'default'], 1000), stage(['power', 'new', 'default'], 10_000)], gateSettings: { alpha: 0.05, reportingLagMs: 0, dryRun: false } },
  segments: ['power', 'new', 'default'].map((key) => ({ key, maintenanceWindows: [] })),
  windowMs: 100,
  segmentBundles: { power: '2.1.0', new: '2.2.0' },
};

const finding = (segment: string | undefined, verdict: GateFinding['verdict'] = 'rollback', dryRun = false): GateFinding => ({
  gate: 'ratio',
  metric: 'crash',
  ...(segment ? { segment } : {}),
  verdict,
  dryRun,
  message: `crash in ${segment ?? 'all'}`,
});

const rollback = (...findings: GateFinding[]): GateEvaluation => ({ state: initialGateState(), verdict: 'rollback', evidence: { windowStart: 0, windowEnd: 1, ratio: [], tripwire: [], findings } });

function baking(context: RolloutContext): RolloutState {
  const entered = enterStage(start(initialRolloutState(0), context, 'key:release', 0), context, 0).state;
  return { ...entered, publishedRevision: entered.revision, lastTickAt: 0 };
}

describe(mappingsToWithdraw.name, () => {
  const mapped = { power: '2.1.0', new: '2.2.0' };
  it('confines a rollback to mapped segments while another exposed segment goes on', () => {
    expect(mappingsToWithdraw([finding('power')], mapped, ['power', 'new', 'default'])).toEqual(['power']);
    expect(mappingsToWithdraw([finding('new'), finding('power'), finding('default', 'continue')], mapped, ['power', 'new', 'default'])).toEqual(['new', 'power']);
  });
  it('rolls back the whole release otherwise', () => {
    expect(mappingsToWithdraw([finding('default')], mapped, ['power', 'default'])).toBeNull();
    expect(mappingsToWithdraw([finding('power'), finding(undefined)], mapped, ['power', 'default'])).toBeNull();
    expect(mappingsToWithdraw([finding('power')], undefined, ['power', 'default'])).toBeNull();
    expect(mappingsToWithdraw([finding('power')], mapped, ['power'])).toBeNull();
    expect(mappingsToWithdraw([finding('power', 'rollback', true)], mapped, ['power', 'default'])).toBeNull();
  });
});

describe('a failing gate in a mapped segment', () => {
  it('withdraws that mapping only: its exposure stays zero through later stages and completion', () => {
    let state = applyGateEvaluation(baking(ctx), ctx, { evaluation: rollback(finding('power')), windowEnd: 1, stageIndex: 0 }, 500);
    expect(state).toMatchObject({ status: 'running', exposure: { power: 0, new: 1000, default: 1000 }, withdrawnSegments: ['power'] });
    expect(state.history.at(-1)).toMatchObject({ event: 'mapping_withdrawn', to: 'running', actor: 'rampart:gate' });
    expect(view(state, ctx).withdrawnSegments).toEqual(['power']);
    state = applyCommand(state, ctx, 'promote', { actor: 'key:oncall', reason: 'next' }, 600);
    expect(state.exposure).toEqual({ power: 0, new: 10_000, default: 10_000 });
    expect(state.phase).toBe('baking');
    state = applyCommand(state, ctx, 'promote', { actor: 'key:oncall', reason: 'done' }, 700);
    expect(state).toMatchObject({ status: 'completed', exposure: { power: 0, new: 10_000, default: 10_000 } });
  });

  it('rolls back the whole release when the main bundle fails, or when the release has no mappings', () => {
    expect(applyGateEvaluation(baking(ctx), ctx, { evaluation: rollback(finding('default')), windowEnd: 1, stageIndex: 0 }, 500).status).toBe('rolled_back');
    const plain = { ...ctx, segmentBundles: undefined };
    expect(applyGateEvaluation(baking(plain), plain, { evaluation: rollback(finding('power')), windowEnd: 1, stageIndex: 0 }, 500).status).toBe('rolled_back');
  });

  it("sends the withdrawn segment's devices back while the others keep theirs", () => {
    const release = servingRelease({
      status: 'completed',
      stageIndex: 1,
      exposure: { power: 0, new: 10_000, default: 10_000 },
      segmentTargets: { power: bundleRef('2.1.0'), new: bundleRef('2.2.0'), vip: bundleRef('2.1.0') },
      withdrawnSegments: ['power'],
    });
    const serving = buildChannelServing([release]).get('production');
    const device = (segment: string, bundleVersion: string) => ({ deviceId: 'd-1', platform: 'ios' as const, nativeVersion: '5.0.0', bundleVersion, segment });
    expect(decide(serving, device('power', '2.1.0'))).toMatchObject({ action: 'rollback', bundle: { version: '1.0.0' } });
    expect(decide(serving, device('power', '1.0.0'))).toMatchObject({ action: 'none' });
    expect(decide(serving, device('power', 'builtin'))).toMatchObject({ action: 'update', bundle: { version: '1.0.0' } });
    expect(decide(serving, device('new', '2.2.0'))).toMatchObject({ action: 'none' });
    // vip still gets 2.1.0, so the channel does not withdraw that version.
    expect(decide(serving, device('vip', '2.1.0'))).toMatchObject({ action: 'none' });
    expect(serving?.withdrawnVersions.has('2.1.0')).toBe(false);
  });
});
