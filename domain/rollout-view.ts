import type { GateEvidence, GateVerdict } from './gates/gate-types';
import type { Plan } from './plan';
import type { Exposure, ReleaseStatus } from './release';

/** Every kind of transition a release goes through: history entries, audit actions and webhook events. */
export const ROLLOUT_EVENTS = [
  'started',
  'stage_started',
  'waiting_for_window',
  'paused',
  'resumed',
  'promoted',
  'promoted_full',
  'rolled_back',
  'aborted',
  'completed',
  /** A personalized release withdrew one segment's own bundle (its gate failed); the rest go on. */
  'mapping_withdrawn',
  // Experiments (domain/experiment-machine.ts).
  'arm_stopped',
  'arm_promoted',
  'concluded',
] as const;
export type RolloutEvent = (typeof ROLLOUT_EVENTS)[number];

/** One change of a release's state: the history in the API, the audit trail and the webhooks. */
export interface Transition {
  seq: number;
  at: number;
  event: RolloutEvent;
  from: ReleaseStatus;
  to: ReleaseStatus;
  stageIndex: number;
  exposure: Exposure;
  actor: string;
  reason: string;
  /**
   * Set when a Temporal Signal caused it: anyone who can reach Temporal sends one, naming any actor,
   * so the actor is only what the sender claims (commands through the API arrive as Updates).
   */
  claimedBy?: 'temporal-signal';
}

/** The last gate decision with everything that led to it. */
export interface GateReport {
  at: number;
  stageIndex: number;
  verdict: GateVerdict;
  evidence: GateEvidence;
}

/** The state query's answer: what on-call and the API show of a running release. */
export interface ReleaseView {
  releaseId: string;
  appId: string;
  channel: string;
  version: string;
  status: ReleaseStatus;
  stageIndex: number;
  stageName: string | null;
  /** `entering`: exposure being applied (maybe waiting for a maintenance window); `baking`: soaking. */
  phase: 'entering' | 'baking';
  /** Segments of the current stage still waiting for their maintenance window. */
  waitingSegments: string[];
  exposure: Exposure;
  /** Segments whose own bundle was withdrawn (personalized releases); absent when none. */
  withdrawnSegments?: string[];
  soakedMs: number;
  revision: number;
  publishedRevision: number;
  reason: string | null;
  plan: Plan;
  gates: GateReport | null;
  history: Transition[];
}

/** What reverting a completed release did: the transition recorded and the revision devices are served. */
export interface RevertResult {
  revision: number;
  transition: Transition;
}
