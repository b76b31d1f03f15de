import { type GateJudgement, type GateOfKind, type JudgeContext, gateFinding } from './gate-judgement';
import type { SegmentWindow, TripwireState } from './gate-types';
import { formatNumber, formatPercent } from './format-number';
import { TRIPWIRE_DEFAULTS, TRIPWIRE_REJECT_BOUNDARY, emptyTripwireState, foldTripwireWindow } from './tripwire-test';

export type TripwireGateSpec = GateOfKind<'tripwire'>;

/** Canary only: an update that fails to boot is bad whatever the control does. */
export function foldTripwireGate(state: TripwireState | undefined, gate: TripwireGateSpec, counts: SegmentWindow): TripwireState {
  return foldTripwireWindow(
    state ?? emptyTripwireState(),
    counts.canary.devices,
    counts.canary.events[gate.metric],
    gate.pOk ?? TRIPWIRE_DEFAULTS.pOk,
    gate.pBad ?? TRIPWIRE_DEFAULTS.pBad,
  );
}

/** Rolls back once the SPRT rejects p_ok; never holds a stage back. */
export function judgeTripwireGate(gate: TripwireGateSpec, state: TripwireState | undefined, context: JudgeContext): GateJudgement {
  const { llr, devices, events } = state ?? emptyTripwireState();
  const rate = devices > 0 ? events / devices : 0;
  const evidence = { metric: gate.metric, segment: context.segment, devices, events, rate, llr, rejectBoundary: TRIPWIRE_REJECT_BOUNDARY };
  if (llr < TRIPWIRE_REJECT_BOUNDARY) return { findings: [], tripwire: evidence };
  const message =
    `${gate.metric} on ${context.segment}: SPRT LLR ${formatNumber(llr)} ≥ ${formatNumber(TRIPWIRE_REJECT_BOUNDARY)} ` +
    `(${events} failures in ${devices} canary device-windows, ${formatPercent(rate)}) → roll back`;
  return { findings: [gateFinding(gate, context, 'rollback', message)], tripwire: evidence };
}
