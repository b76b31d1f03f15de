// The shapes of the admin API's answers this dashboard reads (see GET /openapi.json).

export type Role = 'admin' | 'release' | 'oncall' | 'viewer';

export interface Me {
  keyId: string;
  name: string;
  role: Role;
  appIds: string[] | null;
  permissions: string[];
}

export interface App {
  id: string;
  name: string;
  createdAt: string;
}

export interface Channel {
  name: string;
  public: boolean;
  allowSelfAssign: boolean;
  platforms: string[];
}

export type ReleaseStatus = 'pending' | 'running' | 'paused' | 'completed' | 'rolled_back' | 'aborted';

export interface ReleaseSummary {
  id: string;
  appId: string;
  channel: string;
  version: string;
  baselineVersion: string | null;
  status: ReleaseStatus;
  createdBy: string;
  createdAt: string;
}

export interface Stage {
  name?: string;
  segments: string[];
  exposureBps: number;
  minSoakMs: number;
  maxSoakMs?: number;
  checkIntervalMs?: number;
}

export interface Transition {
  seq: number;
  at: number;
  event: string;
  from: ReleaseStatus;
  to: ReleaseStatus;
  stageIndex: number;
  exposure: Record<string, number>;
  actor: string;
  reason: string;
  claimedBy?: string;
}

export interface RatioEvidence {
  metric: string;
  segment: string;
  canaryDevices: number;
  canaryEvents: number;
  controlDevices: number;
  controlEvents: number;
  rateRatio: number | null;
  rateRatioInterval: [number, number] | null;
  differenceInterval: [number, number] | null;
}

export interface GateReport {
  at: number;
  stageIndex: number;
  verdict: string;
  evidence: { ratio: RatioEvidence[]; findings: Array<{ gate: string; verdict: string; message?: string; segment?: string; metric?: string }> };
}

export interface Release extends ReleaseSummary {
  plan: { stages: Stage[] };
  stageIndex: number;
  stageName: string | null;
  phase: 'entering' | 'baking' | null;
  waitingSegments: string[];
  exposure: Record<string, number>;
  soakedMs: number | null;
  revision: number;
  reason: string | null;
  gates: GateReport | null;
  history: Transition[];
  live: boolean;
  kind: 'release' | 'experiment';
}

/** One arm of an experiment as `GET /v1/releases/:id/experiment` reports it. */
export interface ExperimentArm {
  key: string;
  version: string | null;
  weight: number;
  installMode: string;
  control: boolean;
  stopped: boolean;
  stoppedReason: string | null;
  guardrail: { verdict: string | null; findings: string[] };
  metricGuardrails: Array<{
    metric: string;
    feature: string | null;
    harmful: boolean;
    relative: { estimate: number | null; lower: number | null; upper: number | null };
  }>;
  sample: number;
  value: number | null;
  relative: { estimate: number | null; lower: number | null; upper: number | null } | null;
  verdict: string | null;
}

export interface ExperimentResults {
  status: ReleaseStatus;
  live: boolean;
  control: string;
  primary: { metric: string; direction: 'higher' | 'lower'; feature?: string };
  alpha: number;
  winner: string | null;
  conclusion: { winner: string; reason: string } | null;
  promotedArm: string | null;
  sampleRatio: { observed: number[]; pValue: number; mismatch: boolean } | null;
  arms: ExperimentArm[];
}

export interface InsightPoint {
  start: string;
  crashDeviceRate: number | null;
  jsErrorDeviceRate: number | null;
  adoption: number | null;
}

export interface InsightSeries {
  segment: string;
  cohort: string;
  points: InsightPoint[];
  totals: { installs: { ok: number; failed: number }; updateSuccess: { rate: number } | null; activeDevices: number | null };
}

export interface Insights {
  series: InsightSeries[];
  adoption: Array<{ segment: string; curve: Array<{ start: string; adoption: number | null }>; timeToAdoption: Record<string, { afterMs: number } | null> }>;
}

export interface Adoption {
  activeDevices: number;
  windowHours: number;
  versions: Array<{ bundleVersion: string | null; devices: number; share: number }>;
}

export interface Segment {
  key: string;
  rule: unknown;
  priority: number;
  maintenanceWindows: Array<{ days: number[]; start: string; end: string; timeZone?: string }>;
}

export interface Bundle {
  version: string;
  url: string;
  size: number;
  platforms: string[];
  nativeRange: string;
  signed: boolean;
  createdAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  appIds: string[] | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface Webhook {
  id: string;
  url: string;
  urlRedacted: boolean;
  events: string[];
}

export const FINISHED: readonly ReleaseStatus[] = ['completed', 'rolled_back', 'aborted'];
