import { THRESHOLD_GATE_DEFAULTS } from './gate-defaults';
import { type GateJudgement, type GateOfKind, type JudgeContext, gateFinding } from './gate-judgement';
import type { SegmentWindow } from './gate-types';
import { formatPercent } from './format-number';

export type ThresholdGateSpec = GateOfKind<'threshold'>;

/** Counts the window as failed when a large enough canary exceeds maxRate (cumulative, like Flagger). */
export function foldThresholdGate(failures: number | undefined, gate: ThresholdGateSpec, counts: SegmentWindow): number {
  const devices = counts.canary.devices;
  const events = counts.canary.events[gate.metric];
  const failed = devices >= (gate.minDevices ?? THRESHOLD_GATE_DEFAULTS.minDevices) && events / devices > gate.maxRate;
  return (failures ?? 0) + (failed ? 1 : 0);
}

export function judgeThresholdGate(gate: ThresholdGateSpec, failures: number | undefined, context: JudgeContext): GateJudgement {
  const failureLimit = gate.failureLimit ?? THRESHOLD_GATE_DEFAULTS.failureLimit;
  const failed = failures ?? 0;
  if (failed < failureLimit) return { findings: [] };
  const message = `${gate.metric} on ${context.segment}: ${failed} windows above ${formatPercent(gate.maxRate)} (limit ${failureLimit}) → roll back`;
  return { findings: [gateFinding(gate, context, 'rollback', message)] };
}
