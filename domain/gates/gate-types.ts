import type { GateMetric, GateSettings, GateSpec } from './gate-spec';

/**
 * Counts of one cohort in one counting window. The unit is the device: `devices` is the number of
 * distinct devices of the cohort that were active in the window while running the bundle their
 * cohort should run (canary: the release's target; control: the baseline), and `events[m]` the number
 * of those devices with at least one event of metric `m` in the window (binarised per device-window).
 */
export interface CohortCounts {
  devices: number;
  events: Record<GateMetric, number>;
}

/** One segment's counts in one counting window. */
export interface SegmentWindow {
  canary: CohortCounts;
  control: CohortCounts;
  /**
   * Distinct devices active in the window whose bucket lies in the canary slice / the control slice,
   * whatever bundle they run: the sample-ratio check compares these with the slices' sizes.
   */
  canarySliceDevices: number;
  controlSliceDevices: number;
  /**
   * How trustworthy the window's devices are (see telemetry-trust.ts). `canary`, `control` and the
   * slice counts above hold only established devices; this says what was set aside. Absent in
   * windows read before the trust model (carried through continue-as-new): nothing set aside.
   */
  trust?: WindowTrust;
}

/**
 * Devices of both slices in one window, by how far the gate may trust them. Established devices
 * count: `veteran` (seen before the release started) and `newcomer` (first seen later, but served
 * by a check at least one window before this one). Set aside: `fresh` (served within the last window)
 * and `unserved` (reporting on a release that never served them). `*Failing`: canary devices on the
 * target with a gate-metric event.
 */
export interface WindowTrust {
  veteranDevices: number;
  newcomerDevices: number;
  freshDevices: number;
  unservedDevices: number;
  veteranFailing: number;
  newcomerFailing: number;
  setAsideFailing: number;
  /**
   * The cohorts' veterans alone. Acceptance (what advances a stage) accrues from them whenever the
   * window has any: padding that waited a window to count can then still not make a regressed
   * canary look like its control. Absent in the simulator's honest fleet (all veterans).
   */
  veteranCanary?: CohortCounts;
  veteranControl?: CohortCounts;
}

/** The counts of one closed window `[start, end)` (epoch ms), per exposed segment. */
export interface GateWindow {
  start: number;
  end: number;
  segments: Record<string, SegmentWindow>;
}

/** Running evidence of one comparative test (metric × segment); a handful of numbers, plain JSON. */
export interface RatioTestState {
  /** Log-likelihood ratio per alternative of the mixture grid, against R0. */
  logLr: number[];
  /** Wald acceptance statistic (H1: R = rDetect vs H0: R = 1) per rDetect value, keyed by `String(rDetect)`. */
  acceptLlr: Record<string, number>;
  canaryDevices: number;
  canaryEvents: number;
  controlDevices: number;
  controlEvents: number;
}

/** Running evidence of one one-sample tripwire (metric × segment, canary only). */
export interface TripwireState {
  llr: number;
  devices: number;
  events: number;
}

/**
 * Everything the gate carries between evaluations (and through continue-as-new). Keys of the
 * records are `${metric}:${segment}`. Never reset at stage changes: evidence accrues for the release.
 */
export interface GateState {
  ratio: Record<string, RatioTestState>;
  tripwire: Record<string, TripwireState>;
  /** Cumulative canary devices / crash devices per segment, for the absolute crash-rate ceiling. */
  crashRate: Record<string, { devices: number; events: number }>;
  /** Cumulative `threshold` gate failures per `${metric}:${segment}` (naive Flagger-like counting). */
  thresholdFailures: Record<string, number>;
  windowsSeen: number;
  /** Consecutive evaluations whose window had no canary devices in any segment under test. */
  emptyWindowsInARow: number;
  /** Consecutive evaluations whose metric read failed. */
  readErrorsInARow: number;
  /** Device-windows the trust model kept out of the evidence, for the release; absent: none yet (or a state from before it). */
  setAside?: SetAsideTotals;
}

export interface SetAsideTotals {
  /** Device-windows of fresh or unserved ids, and how many of them were failing canaries. */
  devices: number;
  failing: number;
  /** Whole windows not folded because their new ids looked forged (each paused the release). */
  distrustedWindows: number;
}

export type GateVerdict = 'rollback' | 'advance' | 'continue' | 'pause';

/** Why a verdict was reached, in a form the API, the dashboard and the audit log can show. */
export interface GateFinding {
  gate: GateSpec['kind'] | 'data_quality' | 'soak';
  metric?: GateMetric;
  segment?: string;
  /** What this finding alone asks for. */
  verdict: GateVerdict;
  /** True when the gate is in dry-run: recorded, not acted on. */
  dryRun: boolean;
  message: string;
}

/** Per metric × segment numbers shown next to a decision. */
export interface RatioEvidence {
  metric: GateMetric;
  segment: string;
  canaryDevices: number;
  canaryEvents: number;
  controlDevices: number;
  controlEvents: number;
  /** Mixture e-value (exp of the mixture log-LR); ≥ 1/αEach rolls back. */
  eValue: number;
  rollbackThreshold: number;
  /** Wald acceptance statistic for the stage's rDetect and its boundary (≤ boundary: safe to advance). */
  acceptLlr: number;
  acceptBoundary: number;
  rDetect: number;
  /** Point estimate and 95 % Katz interval of the rate ratio; null when undefined (no events). */
  rateRatio: number | null;
  rateRatioInterval: [number, number] | null;
  /** 95 % Newcombe interval of the difference canary − control in per-device-window rates. */
  differenceInterval: [number, number] | null;
  /** False once enough device-windows passed without one event in either cohort: the app does not report the metric. */
  reported: boolean;
}

export interface TripwireEvidence {
  metric: GateMetric;
  segment: string;
  devices: number;
  events: number;
  rate: number;
  llr: number;
  rejectBoundary: number;
}

export interface GateEvidence {
  windowStart: number | null;
  windowEnd: number | null;
  ratio: RatioEvidence[];
  tripwire: TripwireEvidence[];
  findings: GateFinding[];
  /** What the trust model set aside: this window per segment, and the release's totals. Absent in older reports. */
  trust?: TrustEvidence;
}

export interface TrustEvidence {
  window: Record<string, WindowTrust>;
  /** True when this window was not folded at all (its new ids looked forged). */
  distrusted: boolean;
  totals: SetAsideTotals;
}

/** What the workflow knows about the stage being baked when it asks the gate. */
export interface StageContext {
  /** Exposure (basis points) of every segment under test. */
  exposureBps: Record<string, number>;
  /**
   * The segments this stage widens: only their acceptance decides whether it may advance. Segments
   * exposed earlier are still watched (they can roll the release back) but do not hold it.
   */
  advancingSegments: string[];
  /** The must-catch ratio of this stage's acceptance test; see `defaultRDetect`. */
  rDetect: number;
  /** Bake time accumulated in this stage (paused time excluded). */
  soakedMs: number;
  minSoakMs: number;
  maxSoakMs: number;
  /**
   * When this bake started (its exposure published); null when unknown. A window that began earlier
   * holds devices sliced by the previous exposure, so it says nothing about the sample ratio.
   */
  bakeStartedAt: number | null;
}

export interface GateEvaluationInput {
  state: GateState;
  /** The newly closed window, or null when reading the metrics failed. */
  window: GateWindow | null;
  /** The stage's gates with defaults applied (`[]`: none). */
  gates: GateSpec[];
  settings: GateSettings;
  stage: StageContext;
  /**
   * Number of comparative tests the per-release α is split across (Bonferroni): distinct ratio-gate
   * metrics of the plan × segments of the plan. Fixed for the release.
   */
  comparisons: number;
  /**
   * Every rDetect any stage of the plan uses: acceptance statistics accrue for all of them from the
   * start of the release, so a later stage's boundary sees the whole release's evidence.
   */
  rDetectValues: number[];
}

export interface GateEvaluation {
  state: GateState;
  /** The verdict the workflow acts on (dry-run findings never change it). */
  verdict: GateVerdict;
  evidence: GateEvidence;
}
