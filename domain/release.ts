import type { Plan } from './plan';

export const RELEASE_STATUSES = ['pending', 'running', 'paused', 'completed', 'rolled_back', 'aborted'] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

export const TERMINAL_STATUSES: readonly ReleaseStatus[] = ['completed', 'rolled_back', 'aborted'];

export function isTerminal(status: ReleaseStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export const DEFAULT_CHANNEL = 'production';
export const DEFAULT_SEGMENT = 'default';

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
