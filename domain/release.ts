import type { Plan } from './plan';

/** A release in flight: at most one per app and channel (the database enforces it with a partial index). */
export const ACTIVE_STATUSES = ['pending', 'running', 'paused'] as const;
/** Nothing changes a release in these any more. */
export const TERMINAL_STATUSES = ['completed', 'rolled_back', 'aborted'] as const;
export const RELEASE_STATUSES = [...ACTIVE_STATUSES, ...TERMINAL_STATUSES] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

export function isTerminal(status: ReleaseStatus): boolean {
  return (TERMINAL_STATUSES as readonly ReleaseStatus[]).includes(status);
}

/** Terminal states that send devices back to the baseline. */
export const WITHDRAWN_STATUSES = ['rolled_back', 'aborted'] as const satisfies readonly ReleaseStatus[];

export function isWithdrawn(status: ReleaseStatus): boolean {
  return (WITHDRAWN_STATUSES as readonly ReleaseStatus[]).includes(status);
}

/**
 * What a published state may become: nothing once terminal (a reset workflow must not republish
 * running), except that a completed release may still be withdrawn (reverted).
 */
export function mayReplacePublished(stored: ReleaseStatus, next: ReleaseStatus): boolean {
  return !isTerminal(stored) || (stored === 'completed' && isWithdrawn(next));
}

/**
 * The status a release gets when it is withdrawn without its workflow (the workflow closed, or never
 * started): aborted, not rolled back, because no gate judged the bundle, so releasing the same
 * version again needs no `force`.
 */
export const WITHDRAWN_WITHOUT_WORKFLOW = 'aborted' satisfies ReleaseStatus;

/** The state that withdraws a release whose workflow can no longer publish: exposure zero, next revision. */
export function withdrawnState(release: Pick<Release, 'id' | 'appId'>, current: PublishedState | null, reason: string): PublishedState {
  return {
    releaseId: release.id,
    appId: release.appId,
    revision: (current?.revision ?? 0) + 1,
    status: WITHDRAWN_WITHOUT_WORKFLOW,
    stageIndex: current?.stageIndex ?? 0,
    exposure: Object.fromEntries(Object.keys(current?.exposure ?? {}).map((segment) => [segment, 0])),
    reason,
  };
}

export interface Release {
  id: string;
  appId: string;
  channel: string;
  version: string;
  /** The bundle devices outside the exposure keep; null means the one inside the native binary. */
  baselineVersion: string | null;
  bucketSalt: string;
  plan: Plan;
  /** Size of the telemetry counting windows of this release (see `countingWindowMs`). */
  windowMs: number;
  status: ReleaseStatus;
  workflowId: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** Exposure in basis points (1 = 0.01 %) per segment key. */
export type Exposure = Record<string, number>;

/** What a workflow publishes for devices to be answered from. */
export interface PublishedState {
  releaseId: string;
  appId: string;
  revision: number;
  status: ReleaseStatus;
  stageIndex: number;
  exposure: Exposure;
  reason: string | null;
  /** Segments of a personalized release whose own bundle was withdrawn; absent: none. */
  withdrawnSegments?: string[];
}

export function workflowIdFor(releaseId: string): string {
  return `release-${releaseId}`;
}
