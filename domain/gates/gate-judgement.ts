import type { GateMetric, GateSpec } from './gate-spec';
import type { GateFinding, RatioEvidence, TripwireEvidence } from './gate-types';

export type GateOfKind<K extends GateSpec['kind']> = Extract<GateSpec, { kind: K }>;

/** What a gate needs to know about the segment and release it judges. */
export interface JudgeContext {
  segment: string;
  exposureBps: number;
  /** The stage's rDetect, for ratio gates that do not set their own. */
  stageRDetect: number;
  /** Per-test share of the release's false-rollback budget. */
  alphaEach: number;
  /** The release runs every gate in dry-run. */
  settingsDryRun: boolean;
  /** The stage widens this segment, so its acceptance decides whether the stage may advance. */
  advancing: boolean;
}

/** One gate's say on one segment: its findings and the numbers behind them. */
export interface GateJudgement {
  findings: GateFinding[];
  ratio?: RatioEvidence;
  tripwire?: TripwireEvidence;
}

function isDryRun(gate: GateSpec, context: JudgeContext): boolean {
  return context.settingsDryRun || gate.dryRun === true;
}

/** The crash-rate ceiling names no metric because crashes are the only thing it can judge. */
function gateMetric(gate: GateSpec): GateMetric {
  return gate.kind === 'crashRate' ? 'crash' : gate.metric;
}

/**
 * Key of a gate's test state: one per metric and segment, so folding and judging find the same
 * state, and two gates of one kind on the same metric share it.
 */
export function gateStateKey(gate: GateSpec, segment: string): string {
  return `${gateMetric(gate)}:${segment}`;
}

/** A gate's finding on the segment it judges, in dry-run when the gate or the release is. */
export function gateFinding(gate: GateSpec, context: JudgeContext, verdict: GateFinding['verdict'], message: string): GateFinding {
  return { gate: gate.kind, metric: gateMetric(gate), segment: context.segment, verdict, dryRun: isDryRun(gate, context), message };
}
