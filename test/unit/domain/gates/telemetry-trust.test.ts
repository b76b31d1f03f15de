import { describe, expect, it } from 'vitest';
import { evaluateGates } from '../../../../domain/gates/evaluate-gates';
import { DEFAULT_GATES } from '../../../../domain/gates/gate-spec';
import type { GateState, GateWindow, WindowTrust } from '../../../../domain/gates/gate-types';
import { initialGateState } from '../../../../domain/gates/initial-gate-state';
import { TRUST_BURST_MIN_DEVICES, binomialTail, judgeTrust } from '../../../../domain/gates/telemetry-trust';

const HOUR = 3_600_000;
const zero = { crash: 0, js_error: 0, boot_failed: 0, install_failed: 0 };

const trust = (t: Partial<WindowTrust>): WindowTrust => ({
  veteranDevices: 200,
  newcomerDevices: 0,
  freshDevices: 0,
  unservedDevices: 0,
  veteranFailing: 0,
  newcomerFailing: 0,
  setAsideFailing: 0,
  ...t,
});

/** A window whose established devices are healthy (100 per cohort), with the given trust split. */
const windowWith = (t: Partial<WindowTrust> | undefined): GateWindow => ({
  start: 0,
  end: 60_000,
  segments: {
    ga: {
      canary: { devices: 100, events: { ...zero } },
      control: { devices: 100, events: { ...zero } },
      canarySliceDevices: 100,
      controlSliceDevices: 100,
      ...(t === undefined ? {} : { trust: trust(t) }),
    },
  },
});

const evaluate = (window: GateWindow, state: GateState = initialGateState(), dryRun = false) =>
  evaluateGates({
    state,
    window,
    gates: [...DEFAULT_GATES],
    settings: { alpha: 0.05, reportingLagMs: 0, dryRun },
    stage: { exposureBps: { ga: 500 }, advancingSegments: ['ga'], rDetect: 2, soakedMs: 5 * HOUR, minSoakMs: 4 * HOUR, maxSoakMs: 16 * HOUR, bakeStartedAt: null },
    comparisons: 1,
    rDetectValues: [2],
  });

describe(judgeTrust.name, () => {
  it('pauses, and folds nothing of the window, when failures are concentrated in ids first seen after the release started', () => {
    const before = initialGateState();
    const evaluation = evaluate(windowWith({ setAsideFailing: 42, freshDevices: 42 }), before);
    expect(evaluation.verdict).toBe('pause');
    expect(evaluation.evidence.findings.find((f) => f.verdict === 'pause')!.message).toMatch(/^failures concentrated in new device ids on ga: 42 failing canaries among ids first seen after the release started of 42,/);
    expect(evaluation.state.tripwire).toEqual(before.tripwire);
    expect(evaluation.state.ratio).toEqual(before.ratio);
    expect(evaluation.evidence.trust).toMatchObject({ distrusted: true, totals: { devices: 242, failing: 42, distrustedWindows: 1 } });
  });

  it('counts newcomers that turn out to fail together with the ids set aside, at the rate of the devices seen before', () => {
    expect(judgeTrust(windowWith({ newcomerDevices: 1, newcomerFailing: 1, setAsideFailing: 1, freshDevices: 1 }), undefined, false).distrusted).toBe(true);
    // Honest new installs fail like everyone else: 1 of 20 when 1 in 100 fails.
    expect(judgeTrust(windowWith({ newcomerDevices: 20, newcomerFailing: 1, veteranFailing: 1 }), undefined, false).distrusted).toBe(false);
    // 4 of 30 new ids failing is unusual at 1 %, ordinary when veterans fail at 10 %.
    expect(judgeTrust(windowWith({ veteranDevices: 400, newcomerDevices: 30, newcomerFailing: 4 }), undefined, false).findings[0]?.verdict).toBe('pause');
    expect(judgeTrust(windowWith({ veteranDevices: 400, newcomerDevices: 30, newcomerFailing: 4, veteranFailing: 20 }), undefined, false).distrusted).toBe(false);
  });

  it('sets aside, without pausing, a window whose few newcomers fail unusually often: one forged failure an hour adds up to nothing', () => {
    const judged = judgeTrust(windowWith({ newcomerDevices: 1, newcomerFailing: 1 }), undefined, false);
    expect(judged.distrusted).toBe(true);
    expect(judged.findings.map((f) => f.verdict)).toEqual(['continue']);
    expect(evaluate(windowWith({ newcomerDevices: 1, newcomerFailing: 1 })).verdict).not.toBe('pause');
  });

  it('computes binomial tails', () => {
    expect(binomialTail(0, 10, 0.5)).toBe(1);
    expect(binomialTail(11, 10, 0.5)).toBe(0);
    expect(binomialTail(10, 10, 0.5)).toBeCloseTo(1 / 1024, 12);
    expect(binomialTail(1, 20, 0.01)).toBeCloseTo(1 - 0.99 ** 20, 12);
    expect(binomialTail(2, 100_000, 0.01)).toBeCloseTo(1, 9);
  });

  it('pauses on a burst of new ids that outnumber the devices seen before the release, never advancing on them', () => {
    const evaluation = evaluate(windowWith({ veteranDevices: 200, unservedDevices: 1000, newcomerDevices: 100 }));
    expect(evaluation.verdict).toBe('pause');
    expect(evaluation.evidence.findings.some((f) => /^burst of new device ids on ga: 1100 ids/.test(f.message))).toBe(true);
  });

  it('sets a few fresh ids aside without a finding, and still folds the established devices', () => {
    const evaluation = evaluate(windowWith({ freshDevices: TRUST_BURST_MIN_DEVICES - 1, setAsideFailing: 2 }));
    expect(evaluation.evidence.findings.filter((f) => f.gate === 'data_quality')).toEqual([]);
    expect(evaluation.evidence.trust).toMatchObject({ distrusted: false, totals: { devices: TRUST_BURST_MIN_DEVICES - 1, failing: 2, distrustedWindows: 0 } });
    expect(evaluation.state.ratio['crash:ga']!.canaryDevices).toBe(100);
  });

  it('has no fleet to judge a burst against on a channel without devices from before the release', () => {
    expect(judgeTrust(windowWith({ veteranDevices: 0, freshDevices: 5000, setAsideFailing: 300 }), undefined, false).findings).toEqual([]);
  });

  it('records but does not act in dry-run, and accepts windows and states from before the trust model', () => {
    const dry = evaluate(windowWith({ setAsideFailing: 42 }), initialGateState(), true);
    expect(dry.verdict).not.toBe('pause');
    expect(dry.evidence.findings.some((f) => f.gate === 'data_quality' && f.dryRun)).toBe(true);
    const legacy = evaluate(windowWith(undefined));
    expect(legacy.evidence.trust).toBeUndefined();
    expect(legacy.state.setAside).toBeUndefined();
  });

  it('adds to the release totals carried in the gate state', () => {
    const first = evaluate(windowWith({ freshDevices: 10, setAsideFailing: 1 }));
    const second = evaluate(windowWith({ unservedDevices: 5 }), first.state);
    expect(second.state.setAside).toEqual({ devices: 15, failing: 1, distrustedWindows: 0 });
  });

  it('accrues acceptance from the veterans alone: newcomers that make a regressed canary look like its control advance nothing', () => {
    const lookAlike = (veterans: boolean): GateWindow => {
      const w = windowWith({ veteranDevices: 200, newcomerDevices: 10 });
      const ga = w.segments.ga!;
      return {
        ...w,
        segments: {
          ga: {
            ...ga,
            canary: { devices: 105, events: { ...zero, crash: 10 } },
            control: { devices: 105, events: { ...zero, crash: 10 } },
            trust: {
              ...ga.trust!,
              ...(veterans ? { veteranCanary: { devices: 100, events: { ...zero, crash: 10 } }, veteranControl: { devices: 100, events: { ...zero, crash: 2 } } } : {}),
            },
          },
        },
      };
    };
    const fold = (veterans: boolean) => {
      let state = initialGateState();
      for (let i = 0; i < 6; i++) state = evaluate(lookAlike(veterans), state).state;
      return state.ratio['crash:ga']!.acceptLlr['2']!;
    };
    expect(fold(false)).toBeLessThan(-2.3);
    expect(fold(true)).toBeGreaterThan(0);
  });
});
