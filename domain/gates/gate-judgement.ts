import type { GateSpec } from './gate-spec';
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

export function isDryRun(gate: GateSpec, context: JudgeContext): boolean {
  return context.settingsDryRun || gate.dryRun === true;
}

/** Key of a test's state: one per metric and segment. */
export function stateKey(metric: string, segment: string): string {
  return `${metric}:${segment}`;
}
