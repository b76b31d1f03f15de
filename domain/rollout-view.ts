import type { Plan } from './plan';
import type { Exposure, ReleaseStatus } from './release';

/** One change of a release's state, as the history in the API and the audit trail show it. */
export interface Transition {
  at: number;
  from: ReleaseStatus;
  to: ReleaseStatus;
  stageIndex: number;
  actor: string;
  reason: string;
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
  exposure: Exposure;
  revision: number;
  publishedRevision: number;
  plan: Plan;
  history: Transition[];
}
