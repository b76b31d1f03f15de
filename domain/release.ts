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
}

export function workflowIdFor(releaseId: string): string {
  return `release-${releaseId}`;
}
