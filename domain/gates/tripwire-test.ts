import type { TripwireState } from './gate-types';

/** Update boot-failure tripwire of gates.md §4.5: 0.2 % is normal, 1 % is bad. */
export const TRIPWIRE_DEFAULTS = { pOk: 0.002, pBad: 0.01, alpha: 0.001, beta: 0.1 } as const;

/** Wald's upper boundary: at or above it the failures are too frequent for p_ok. */
export const TRIPWIRE_REJECT_BOUNDARY = Math.log((1 - TRIPWIRE_DEFAULTS.beta) / TRIPWIRE_DEFAULTS.alpha);

export function emptyTripwireState(): TripwireState {
  return { llr: 0, devices: 0, events: 0 };
}

/**
 * Folds one window of canary device-windows (`events` of them failed) into the one-sample SPRT of
 * p_bad against p_ok. The statistic is not floored at Wald's acceptance boundary: restarting after
 * every acceptance would spend α again each time over a release's many windows.
 */
export function foldTripwireWindow(state: TripwireState, devices: number, events: number, pOk: number, pBad: number): TripwireState {
  const llr = events * Math.log(pBad / pOk) + (devices - events) * Math.log((1 - pBad) / (1 - pOk));
  return { llr: state.llr + llr, devices: state.devices + devices, events: state.events + events };
}
