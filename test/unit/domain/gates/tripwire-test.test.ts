import { describe, expect, it } from 'vitest';
import { TRIPWIRE_REJECT_BOUNDARY, emptyTripwireState, foldTripwireWindow } from '../../../../domain/gates/tripwire-test';

describe(foldTripwireWindow.name, () => {
  it('adds f·ln(p₁/p₀) + (a − f)·ln((1 − p₁)/(1 − p₀)) per window', () => {
    const state = foldTripwireWindow(foldTripwireWindow(emptyTripwireState(), 300, 2, 0.002, 0.01), 500, 1, 0.002, 0.01);
    const expected = 3 * Math.log(5) + 797 * Math.log(0.99 / 0.998);
    expect(state.llr).toBeCloseTo(expected, 12);
    expect(state).toMatchObject({ devices: 800, events: 3 });
  });

  it('rejects at ln((1 − β)/α) = ln(0.9/0.001)', () => {
    expect(TRIPWIRE_REJECT_BOUNDARY).toBeCloseTo(Math.log(900), 12);
  });
});
