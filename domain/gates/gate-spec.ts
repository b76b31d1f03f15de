/** Metrics a device reports that a gate can judge; each is counted as "devices with ≥ 1 event per window". */
export const GATE_METRICS = ['crash', 'js_error', 'boot_failed', 'install_failed'] as const;
export type GateMetric = (typeof GATE_METRICS)[number];

export const COMPARATIVE_METRICS = ['crash', 'js_error'] as const;
export type ComparativeMetric = (typeof COMPARATIVE_METRICS)[number];

export const TRIPWIRE_METRICS = ['boot_failed', 'install_failed'] as const;
export type TripwireMetric = (typeof TRIPWIRE_METRICS)[number];

/**
 * One gate of a stage. `ratio` compares canary with the randomized control (mixture SPRT on the
 * rate ratio); `tripwire` is a one-sample SPRT on update failures; `crashRate` is the absolute
 * Android-vitals style ceiling; `threshold` is the naive per-window rate limit, kept for plans that
 * ask for it explicitly and as the simulator's baseline.
 */
export type GateSpec =
  | { kind: 'ratio'; metric: ComparativeMetric; rDetect?: number; r0?: number; minEvents?: number; dryRun?: boolean }
  | { kind: 'tripwire'; metric: TripwireMetric; pOk?: number; pBad?: number; dryRun?: boolean }
  | { kind: 'crashRate'; maxRate?: number; minDevices?: number; dryRun?: boolean }
  | { kind: 'threshold'; metric: GateMetric; maxRate: number; minDevices?: number; failureLimit?: number; dryRun?: boolean };

export type GateKind = GateSpec['kind'];

/** Release-wide gate settings; stages only choose which gates apply. */
export interface GateSettings {
  /** Per-release false-rollback budget, split (Bonferroni) across metrics × segments. */
  alpha: number;
  /** How long after a window closes its counts are still considered incomplete. */
  reportingLagMs: number;
  /** Evaluate and record every decision, but never act on it. */
  dryRun: boolean;
}

// 0.01 per release: with two comparative metrics that is 0.005 per test, what gates.md §4.8 assumes;
// the simulator (npm run sim:gates) measures 0.8 % false rollbacks with it, 2.9 % with 0.05.
export const DEFAULT_GATE_SETTINGS: GateSettings = { alpha: 0.01, reportingLagMs: 0, dryRun: false };

export const DEFAULT_GATES: readonly GateSpec[] = [
  { kind: 'ratio', metric: 'crash' },
  { kind: 'ratio', metric: 'js_error' },
  { kind: 'tripwire', metric: 'boot_failed' },
  { kind: 'tripwire', metric: 'install_failed' },
  { kind: 'crashRate' },
];
