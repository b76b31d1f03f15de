import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RatioTestState } from '../../../../domain/gates/gate-types';
import {
  ACCEPT_BOUNDARY,
  MIXTURE_GRID,
  type RatioWindowCounts,
  acceptLlrFor,
  conditionalBinomialLlr,
  emptyRatioTestState,
  foldRatioWindow,
  mixtureLogE,
} from '../../../../domain/gates/ratio-test';

const fold = (windows: RatioWindowCounts[], r0 = 1, acceptRatios: number[] = []) =>
  windows.reduce<RatioTestState>((state, w) => foldRatioWindow(state, w, r0, acceptRatios), emptyRatioTestState());

const window = (canaryDevices: number, canaryEvents: number, controlDevices: number, controlEvents: number): RatioWindowCounts => ({
  canaryDevices,
  canaryEvents,
  controlDevices,
  controlEvents,
});

// Two windows worked by hand on the conditional binomial:
//  w1: 1000 canary with 5 events, 1000 control with 1: π(R) = R/(R+1), π(1) = 1/2, so
//      L(R) = 5·ln(2R/(R+1)) + 1·ln(2/(R+1)) = 6 ln 2 + 5 ln R − 6 ln(R+1).
//  w2: 200 canary with 2 events, 1800 control with 3: π(R) = R/(R+9), π(1) = 1/10, so
//      L(R) = 2·ln(10R/(R+9)) + 3·ln(10/(R+9)) = 5 ln 10 + 2 ln R − 5 ln(R+9).
const w1 = window(1000, 5, 1000, 1);
const w2 = window(200, 2, 1800, 3);
const l1 = (r: number) => 6 * Math.log(2) + 5 * Math.log(r) - 6 * Math.log(r + 1);
const l2 = (r: number) => 5 * Math.log(10) + 2 * Math.log(r) - 5 * Math.log(r + 9);

describe(foldRatioWindow.name, () => {
  it('accumulates the hand-computed log-likelihood ratios and acceptance statistic', () => {
    const state = fold([w1, w2], 1, [1.3, 2]);
    MIXTURE_GRID.forEach((r, k) => expect(state.logLr[k]).toBeCloseTo(l1(r) + l2(r), 12));
    // R = 2 after w1 alone: 11 ln 2 − 6 ln 3.
    expect(fold([w1]).logLr[2]).toBeCloseTo(1.0329453, 6);
    expect(acceptLlrFor(state, 1.3)).toBeCloseTo(l1(1.3) + l2(1.3), 12);
    expect(state.acceptLlr['2']).toBeCloseTo(l1(2) + l2(2), 12);
    expect(state).toMatchObject({ canaryDevices: 1200, canaryEvents: 7, controlDevices: 2800, controlEvents: 4 });
  });

  it('equals the textbook form x_c·ln(π₁/π₀) + x_b·ln((1 − π₁)/(1 − π₀))', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        fc.constantFrom(...MIXTURE_GRID),
        fc.double({ min: 0.8, max: 1.2, noNaN: true }),
        (nc, nb, xc, xb, r1, r0) => {
          const share = (r: number) => (r * nc) / (r * nc + nb);
          const textbook = xc * Math.log(share(r1) / share(r0)) + xb * Math.log((1 - share(r1)) / (1 - share(r0)));
          expect(conditionalBinomialLlr(window(nc, xc, nb, xb), r1, r0)).toBeCloseTo(textbook, 8);
        },
      ),
    );
  });

  it('lets grid alternatives at or below the margin r0 sit the window out', () => {
    const state = fold([w1], 1.5);
    const share = (r: number) => r / (r + 1);
    const vsMargin = (r: number) => 5 * Math.log(share(r) / share(1.5)) + Math.log((1 - share(r)) / (1 - share(1.5)));
    expect(state.logLr.slice(0, 2)).toEqual([0, 0]);
    MIXTURE_GRID.slice(2).forEach((r, k) => expect(state.logLr[k + 2]).toBeCloseTo(vsMargin(r), 12));
  });

  it('skips windows where either cohort has no devices, counts included', () => {
    const state = fold([w1]);
    expect(foldRatioWindow(state, window(0, 0, 500, 3), 1, [2])).toBe(state);
    expect(foldRatioWindow(state, window(500, 3, 0, 0), 1, [2])).toBe(state);
  });
});

describe(mixtureLogE.name, () => {
  it('is the log of the equally weighted mixture of the grid likelihood ratios', () => {
    const state = fold([w1, w2]);
    const mixture = MIXTURE_GRID.reduce((sum, r) => sum + Math.exp(l1(r) + l2(r)), 0) / MIXTURE_GRID.length;
    expect(mixtureLogE(state)).toBeCloseTo(Math.log(mixture), 12);
    expect(mixtureLogE(emptyRatioTestState())).toBe(0);
  });

  it('stays finite for a crash loop on a very large canary', () => {
    const logE = mixtureLogE(fold([window(5_000_000, 400_000, 5_000_000, 4_000)]));
    expect(Number.isFinite(logE)).toBe(true);
    expect(logE).toBeGreaterThan(100_000);
  });

  const windowArb = fc
    .record({ nc: fc.integer({ min: 1, max: 20_000 }), nb: fc.integer({ min: 1, max: 20_000 }), fc: fc.double({ min: 0, max: 0.02, noNaN: true }), fb: fc.double({ min: 0, max: 0.02, noNaN: true }) })
    .map(({ nc, nb, fc: rc, fb }) => window(nc, Math.round(rc * nc), nb, Math.round(fb * nb)));
  const scenario = fc.tuple(fc.array(windowArb, { minLength: 1, maxLength: 8 }), fc.nat(), fc.integer({ min: 1, max: 30 }), fc.constantFrom(1, 1.1, 1.3));

  it('never falls when the canary has more events with the same denominators', () => {
    fc.assert(
      fc.property(scenario, ([windows, at, extra, r0]) => {
        const i = at % windows.length;
        const worse = windows.map((w, j) => (j === i ? { ...w, canaryEvents: w.canaryEvents + extra } : w));
        expect(mixtureLogE(fold(worse, r0))).toBeGreaterThanOrEqual(mixtureLogE(fold(windows, r0)) - 1e-9);
      }),
    );
  });

  it('never rises when the control has more events with the same denominators', () => {
    fc.assert(
      fc.property(scenario, ([windows, at, extra, r0]) => {
        const i = at % windows.length;
        const better = windows.map((w, j) => (j === i ? { ...w, controlEvents: w.controlEvents + extra } : w));
        expect(mixtureLogE(fold(better, r0))).toBeLessThanOrEqual(mixtureLogE(fold(windows, r0)) + 1e-9);
      }),
    );
  });
});

describe('ACCEPT_BOUNDARY', () => {
  it('is ln(β/(1 − α)) with α = 0.01, β = 0.1', () => {
    expect(ACCEPT_BOUNDARY).toBeCloseTo(-2.2925, 4);
  });
});
