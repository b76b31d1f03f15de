import type { Plan } from '../domain/plan';
import type { Exposure, ReleaseStatus } from '../domain/release';
import type { GateReport, Transition } from '../domain/rollout-view';

/** A release as `GET /v1/releases/:id` and the command endpoints answer it. */
export interface ReleaseAnswer {
  id: string;
  appId: string;
  channel: string;
  version: string;
  baselineVersion: string | null;
  status: ReleaseStatus;
  stageIndex: number;
  stageName: string | null;
  /** Null when Temporal could not be asked (the published state carries no phase). */
  phase: 'entering' | 'baking' | null;
  waitingSegments: string[];
  exposure: Exposure;
  soakedMs: number | null;
  reason: string | null;
  plan?: Plan;
  gates: GateReport | null;
  history: Transition[];
  /** False when the answer comes from the published state because Temporal was unreachable. */
  live: boolean;
  /** Segments of a personalized release with the version each gets instead of `version` (absent from older APIs). */
  segmentBundles?: Record<string, string>;
}
