import type { RatioTestState } from './gate-types';
import { logSumExp } from './log-sum-exp';

/** Alternatives of the mixture (gates.md §4.3), equally weighted. */
export const MIXTURE_GRID: readonly number[] = [1.25, 1.5, 2, 3, 5, 10];

/** Error rates of the Wald acceptance test (gates.md §4.8). */
export const ACCEPT_ALPHA = 0.01;
export const ACCEPT_BETA = 0.1;

/** At or below this the data favour R = 1 over R = rDetect strongly enough to widen the stage. */
export const ACCEPT_BOUNDARY = Math.log(ACCEPT_BETA / (1 - ACCEPT_ALPHA));

/** Counts of the comparative metric in one window, canary against control. */
export interface RatioWindowCounts {
  canaryDevices: number;
  canaryEvents: number;
  controlDevices: number;
  controlEvents: number;
}

export function emptyRatioTestState(): RatioTestState {
  return {
    logLr: MIXTURE_GRID.map(() => 0),
    acceptLlr: {},
    canaryDevices: 0,
    canaryEvents: 0,
    controlDevices: 0,
    controlEvents: 0,
  };
}

/**
 * Log-likelihood ratio of R = r1 against R = r0 for one window, on the conditional binomial: given
 * the window's events, each one falls on the canary with probability π(R) = R·n_c / (R·n_c + n_b).
 * Algebraically equal to x_c·ln(π₁/π₀) + x_b·ln((1 − π₁)/(1 − π₀)), written without 1 − π so it
 * does not lose precision when the canary dwarfs the control.
 */
export function conditionalBinomialLlr(counts: RatioWindowCounts, r1: number, r0: number): number {
  const { canaryDevices: nc, canaryEvents: xc, controlDevices: nb, controlEvents: xb } = counts;
  return xc * Math.log(r1 / r0) + (xc + xb) * Math.log((r0 * nc + nb) / (r1 * nc + nb));
}

/**
 * Folds one window into the test. Windows where either cohort had no devices carry no information
 * about the ratio and are skipped, counts included, so the totals describe exactly the evidence.
 * A grid alternative at or below the margin r0 sits the window out: a stopped supermartingale is
 * still one, so the mixture stays valid even when a later stage raises r0.
 */
export function foldRatioWindow(
  state: RatioTestState,
  counts: RatioWindowCounts,
  r0: number,
  acceptRatios: readonly number[],
): RatioTestState {
  if (counts.canaryDevices <= 0 || counts.controlDevices <= 0) return state;
  const acceptLlr = { ...state.acceptLlr };
  for (const r of acceptRatios) acceptLlr[String(r)] = (acceptLlr[String(r)] ?? 0) + conditionalBinomialLlr(counts, r, 1);
  return {
    logLr: state.logLr.map((l, k) => {
      const rk = MIXTURE_GRID[k] ?? r0;
      return rk > r0 ? l + conditionalBinomialLlr(counts, rk, r0) : l;
    }),
    acceptLlr,
    canaryDevices: state.canaryDevices + counts.canaryDevices,
    canaryEvents: state.canaryEvents + counts.canaryEvents,
    controlDevices: state.controlDevices + counts.controlDevices,
    controlEvents: state.controlEvents + counts.controlEvents,
  };
}

/** ln E: the log of the equally weighted mixture of the grid's likelihood ratios. */
export function mixtureLogE(state: RatioTestState): number {
  return logSumExp(state.logLr) - Math.log(state.logLr.length);
}

/** The Wald acceptance statistic for rDetect; 0 (no evidence either way) before any window counted. */
export function acceptLlrFor(state: RatioTestState, rDetect: number): number {
  return state.acceptLlr[String(rDetect)] ?? 0;
}
