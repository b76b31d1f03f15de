import { CRASH_RATE_GATE_DEFAULTS } from './gate-defaults';
import { type GateJudgement, type GateOfKind, type JudgeContext, gateFinding } from './gate-judgement';
import type { GateState, SegmentWindow } from './gate-types';
import { formatPercent } from './format-number';
import { wilsonInterval } from './intervals';

export type CrashRateGateSpec = GateOfKind<'crashRate'>;
export type CrashRateState = GateState['crashRate'][string];

export function foldCrashRateGate(state: CrashRateState | undefined, counts: SegmentWindow): CrashRateState {
  return {
    devices: (state?.devices ?? 0) + counts.canary.devices,
    events: (state?.events ?? 0) + counts.canary.events.crash,
  };
}

/**
 * The absolute ceiling a comparison cannot see (canary and control crashing alike): roll back once
 * the canary's crash rate is above maxRate with 95 % confidence.
 */
export function judgeCrashRateGate(gate: CrashRateGateSpec, state: CrashRateState | undefined, context: JudgeContext): GateJudgement {
  const maxRate = gate.maxRate ?? CRASH_RATE_GATE_DEFAULTS.maxRate;
  const minDevices = gate.minDevices ?? CRASH_RATE_GATE_DEFAULTS.minDevices;
  const { devices, events } = state ?? { devices: 0, events: 0 };
  const lower = devices >= minDevices ? wilsonInterval(events, devices)?.[0] : undefined;
  if (lower === undefined || lower <= maxRate) return { findings: [] };
  const message =
    `crash rate on ${context.segment}: Wilson 95 % lower bound ${formatPercent(lower)} > ceiling ${formatPercent(maxRate)} ` +
    `(${events} crashing of ${devices} canary device-windows) → roll back`;
  return { findings: [gateFinding(gate, context, 'rollback', message)] };
}
