import { judgeCrashRateGate } from './crash-rate-gate';
import { dataQualityFindings } from './data-quality';
import { formatHours } from './format-number';
import { type GateJudgement, type JudgeContext, gateStateKey } from './gate-judgement';
import type { GateSpec } from './gate-spec';
import type { GateEvaluation, GateEvaluationInput, GateFinding, GateState, GateVerdict, GateWindow } from './gate-types';
import { foldGateWindow } from './fold-gate-window';
import { judgeRatioGate } from './ratio-gate';
import { judgeTrust } from './telemetry-trust';
import { judgeThresholdGate } from './threshold-gate';
import { judgeTripwireGate } from './tripwire-gate';

/** The verdict the workflow acts on is the most severe finding that is not in dry-run. */
const PRECEDENCE: readonly GateVerdict[] = ['rollback', 'pause', 'continue', 'advance'];

/**
 * One check of a stage (gates.md §4.7): folds the closed window into the release's evidence and
 * decides rollback > pause > advance > continue. Pure and deterministic, so a workflow replay
 * reaches the same verdict.
 */
export function evaluateGates(input: GateEvaluationInput): GateEvaluation {
  const { gates, settings, stage, window } = input;
  const segments = Object.keys(stage.exposureBps);
  // Data quality protects the gates' decisions; when none of them may act, neither may it.
  const dqDryRun = settings.dryRun || gates.every((g) => g.dryRun === true);
  const trust = judgeTrust(gates.length > 0 ? window : null, input.state.setAside, dqDryRun);
  const folded = trust.distrusted ? setWindowAside(input.state) : foldTrusted(input, segments);
  // Devices set aside still reported: the window lacks trusted data, not data (a new fleet's first window).
  const reported = window !== null && Object.values(window.segments).some((w) => (w.trust?.freshDevices ?? 0) + (w.trust?.unservedDevices ?? 0) > 0);
  const counted = reported && !trust.distrusted ? { ...folded, emptyWindowsInARow: 0 } : folded;
  const state = trust.evidence === undefined ? counted : { ...counted, setAside: trust.evidence.totals };
  const alphaEach = settings.alpha / Math.max(1, input.comparisons);

  const judgements = segments.flatMap((segment) => {
    const context: JudgeContext = {
      segment,
      exposureBps: stage.exposureBps[segment] ?? 0,
      stageRDetect: stage.rDetect,
      alphaEach,
      settingsDryRun: settings.dryRun,
      advancing: stage.advancingSegments.includes(segment),
    };
    return gates.map((gate) => judgeGate(gate, state, context));
  });
  const findings = judgements.flatMap((j) => j.findings);
  if (gates.length > 0) findings.push(...trust.findings, ...dataQualityFindings(state, window, stage, dqDryRun));
  findings.push(...soakFindings(findings, input));

  return {
    state,
    verdict: PRECEDENCE.find((verdict) => findings.some((f) => f.verdict === verdict && !f.dryRun)) ?? 'advance',
    evidence: {
      windowStart: window?.start ?? null,
      windowEnd: window?.end ?? null,
      ratio: judgements.flatMap((j) => (j.ratio === undefined ? [] : [j.ratio])),
      tripwire: judgements.flatMap((j) => (j.tripwire === undefined ? [] : [j.tripwire])),
      findings,
      ...(trust.evidence === undefined ? {} : { trust: trust.evidence }),
    },
  };
}

/**
 * Rollback evidence from every established device (or the veterans alone, whichever is stronger);
 * acceptance from the veterans alone, when the window has veterans (a new app's first release has
 * none: its newcomers are all it has).
 */
function foldTrusted(input: GateEvaluationInput, segments: readonly string[]): GateState {
  const { window, gates } = input;
  const established = foldGateWindow(input.state, window, gates, segments, acceptRatios(input));
  const veteransOnly = window === null ? null : veteranWindow(window);
  if (veteransOnly === null) return established;
  const veterans = foldGateWindow(input.state, veteransOnly, gates, segments, acceptRatios(input));
  // Newcomers that waited a window must not hide the veterans' regression either: the rollback side
  // keeps the stronger of the two (at most 2α under the null instead of α; equal for an honest fleet).
  const ratio = Object.fromEntries(
    Object.entries(established.ratio).map(([key, test]) => {
      const alone = veterans.ratio[key];
      return [key, alone === undefined ? test : { ...test, logLr: test.logLr.map((l, k) => Math.max(l, alone.logLr[k] ?? l)), acceptLlr: alone.acceptLlr }];
    }),
  );
  const tripwire = Object.fromEntries(
    Object.entries(established.tripwire).map(([key, test]) => {
      const alone = veterans.tripwire[key];
      return [key, alone !== undefined && alone.llr > test.llr ? alone : test];
    }),
  );
  return { ...established, ratio, tripwire };
}

/** The window with the veterans' cohorts only; null when no segment has veterans counted apart. */
function veteranWindow(window: GateWindow): GateWindow | null {
  const segments: GateWindow['segments'] = {};
  let any = false;
  for (const [key, w] of Object.entries(window.segments)) {
    const t = w.trust;
    if (t?.veteranCanary === undefined || t.veteranControl === undefined || t.veteranDevices === 0) {
      segments[key] = w;
      continue;
    }
    any = true;
    segments[key] = { ...w, canary: t.veteranCanary, control: t.veteranControl };
  }
  return any ? { ...window, segments } : null;
}

/** A window whose new ids look forged counts for nothing: it is seen, and its devices are in `setAside`. */
function setWindowAside(state: GateState): GateState {
  return { ...state, windowsSeen: state.windowsSeen + 1, readErrorsInARow: 0 };
}

/** Every rDetect the plan uses plus those in force now, so each acceptance statistic sees every window. */
function acceptRatios(input: GateEvaluationInput): number[] {
  const inForce = input.gates.flatMap((g) => (g.kind === 'ratio' ? [g.rDetect ?? input.stage.rDetect] : []));
  return [...new Set([...input.rDetectValues, ...inForce])];
}

function judgeGate(gate: GateSpec, state: GateState, context: JudgeContext): GateJudgement {
  const key = gateStateKey(gate, context.segment);
  switch (gate.kind) {
    case 'ratio':
      return judgeRatioGate(gate, state.ratio[key], context);
    case 'tripwire':
      return judgeTripwireGate(gate, state.tripwire[key], context);
    case 'crashRate':
      return judgeCrashRateGate(gate, state.crashRate[key], context);
    case 'threshold':
      return judgeThresholdGate(gate, state.thresholdFailures[key], context);
  }
}

/** The clock's say: bake at least minSoak, page a human after maxSoak, advance when nothing objects. */
function soakFindings(findings: readonly GateFinding[], { stage, gates }: GateEvaluationInput): GateFinding[] {
  const soak = (verdict: GateVerdict, message: string): GateFinding => ({ gate: 'soak', verdict, dryRun: false, message });
  const soaked = formatHours(stage.soakedMs);
  const blocked: GateFinding[] = [];
  if (stage.soakedMs < stage.minSoakMs) {
    blocked.push(soak('continue', `soaked ${soaked} of ${formatHours(stage.minSoakMs)} minimum → keep baking`));
  }
  const acting = [...findings, ...blocked].filter((f) => !f.dryRun);
  if (acting.some((f) => f.verdict === 'continue') && stage.soakedMs >= stage.maxSoakMs) {
    return [...blocked, soak('pause', `soaked ${soaked} ≥ ${formatHours(stage.maxSoakMs)} maximum without passing → pause and page a human`)];
  }
  // Advance findings never hold a stage (a metric the app does not report): the clock still decides.
  if (acting.some((f) => f.verdict !== 'advance')) return blocked;
  const passed = gates.some((g) => g.kind === 'ratio') ? ', every acceptance boundary crossed' : '';
  return [soak('advance', `soaked ${soaked} ≥ ${formatHours(stage.minSoakMs)} minimum${passed} → advance`)];
}
