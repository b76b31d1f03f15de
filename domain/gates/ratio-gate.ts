import { controlSliceBps } from '../bucketing';
import { RATIO_GATE_DEFAULTS, UNREPORTED_AFTER_DEVICE_WINDOWS } from './gate-defaults';
import { type GateJudgement, type GateOfKind, type JudgeContext, gateFinding } from './gate-judgement';
import type { GateFinding, RatioEvidence, RatioTestState, SegmentWindow } from './gate-types';
import { formatNumber } from './format-number';
import { katzInterval, newcombeInterval } from './intervals';
import {
  ACCEPT_BOUNDARY,
  acceptLlrFor,
  emptyRatioTestState,
  foldRatioWindow,
  mixtureLogE,
} from './ratio-test';

export type RatioGateSpec = GateOfKind<'ratio'>;

export function foldRatioGate(
  state: RatioTestState | undefined,
  gate: RatioGateSpec,
  counts: SegmentWindow,
  acceptRatios: readonly number[],
): RatioTestState {
  return foldRatioWindow(
    state ?? emptyRatioTestState(),
    {
      canaryDevices: counts.canary.devices,
      canaryEvents: counts.canary.events[gate.metric],
      controlDevices: counts.control.devices,
      controlEvents: counts.control.events[gate.metric],
    },
    gate.r0 ?? RATIO_GATE_DEFAULTS.r0,
    acceptRatios,
  );
}

/**
 * Rolls back when the mixture e-value reaches 1/α_each on at least minEvents canary events; blocks
 * advancing until the acceptance statistic for rDetect crosses its boundary, for the segments the
 * stage widens. A segment at full exposure has no control left, so its test only reports.
 */
export function judgeRatioGate(gate: RatioGateSpec, state: RatioTestState | undefined, context: JudgeContext): GateJudgement {
  const test = state ?? emptyRatioTestState();
  const rDetect = gate.rDetect ?? context.stageRDetect;
  const minEvents = gate.minEvents ?? RATIO_GATE_DEFAULTS.minEvents;
  const logE = mixtureLogE(test);
  const rollbackThreshold = 1 / context.alphaEach;
  const acceptLlr = acceptLlrFor(test, rDetect);
  const evidence = ratioEvidence(gate, context.segment, test, logE, rollbackThreshold, acceptLlr, rDetect);
  if (controlSliceBps(context.exposureBps) <= 0) return { findings: [], ratio: evidence };

  const finding = (verdict: GateFinding['verdict'], message: string): GateFinding =>
    gateFinding(gate, context, verdict, `${gate.metric} on ${context.segment}: ${message}`);
  const eValue = `e-value ${formatNumber(evidence.eValue)}`;
  const threshold = formatNumber(rollbackThreshold);
  const findings: GateFinding[] = [];
  if (logE >= Math.log(rollbackThreshold)) {
    findings.push(
      test.canaryEvents >= minEvents
        ? finding('rollback', `${eValue} ≥ ${threshold} with ${test.canaryEvents} canary events → roll back`)
        : finding('continue', `${eValue} ≥ ${threshold} but only ${test.canaryEvents} canary events (${minEvents} needed) → keep baking`),
    );
  } else if (context.advancing && !evidence.reported) {
    findings.push(
      finding(
        'advance',
        `not reported: no event in ${test.canaryDevices} canary and ${test.controlDevices} control device-windows, so the app does not seem to send it ` +
          `→ does not hold the stage (drop this gate from the plan, or report ${gate.metric} events, to silence this)`,
      ),
    );
  } else if (context.advancing && acceptLlr > ACCEPT_BOUNDARY) {
    findings.push(
      finding(
        'continue',
        `acceptance LLR ${formatNumber(acceptLlr)} has not reached ${formatNumber(ACCEPT_BOUNDARY)} for rDetect ${formatNumber(rDetect)} ` +
          `(${eValue}, ${test.canaryEvents} canary / ${test.controlEvents} control events) → keep baking`,
      ),
    );
  }
  return { findings, ratio: evidence };
}

function ratioEvidence(
  gate: RatioGateSpec,
  segment: string,
  test: RatioTestState,
  logE: number,
  rollbackThreshold: number,
  acceptLlr: number,
  rDetect: number,
): RatioEvidence {
  const { canaryDevices: nc, canaryEvents: xc, controlDevices: nb, controlEvents: xb } = test;
  return {
    metric: gate.metric,
    segment,
    canaryDevices: nc,
    canaryEvents: xc,
    controlDevices: nb,
    controlEvents: xb,
    // A crash loop on a large canary can push ln E past what a double can exponentiate.
    eValue: Math.min(Math.exp(logE), Number.MAX_VALUE),
    rollbackThreshold,
    acceptLlr,
    acceptBoundary: ACCEPT_BOUNDARY,
    rDetect,
    rateRatio: nc > 0 && nb > 0 && xb > 0 ? xc / nc / (xb / nb) : null,
    rateRatioInterval: katzInterval(xc, nc, xb, nb),
    differenceInterval: newcombeInterval(xc, nc, xb, nb),
    reported: xc + xb > 0 || nc + nb < UNREPORTED_AFTER_DEVICE_WINDOWS,
  };
}
