import type { ExperimentDefinition, InstallMode, MetricGuardrail } from './experiment';
import type { Conclusion, ExperimentView, SampleRatioLook } from './experiment-machine';
import type { ArmVerdict, PrimaryMetricSummaries } from './experiments/judge-experiment';
import type { MetricGuardrailVerdict } from './experiments/metric-guardrails';
import type { GateVerdict } from './gates/gate-types';
import type { Exposure, ReleaseStatus } from './release';

/** One arm in the results: what it serves, how its guardrails stand, and its primary metric against the control. */
export interface ArmResult {
  key: string;
  version: string | null;
  weight: number;
  installMode: InstallMode;
  control: boolean;
  stopped: boolean;
  stoppedReason: string | null;
  guardrail: { verdict: GateVerdict | null; findings: string[] };
  /** The arm on each metric guardrail at the last look (none for the control, or once stopped). */
  metricGuardrails: MetricGuardrailResult[];
  /** Units of the primary metric (sessions, device-windows, installs or device-buckets; sessions for feature_use). */
  sample: number;
  /** The arm's own mean (ms), proportion or rate (feature uses per session); null before it has units. */
  value: number | null;
  /** Treatment − control, absolute and relative, with the always-valid interval (null bounds: not yet informative); for feature_use both are the rate ratio − 1. */
  difference: { estimate: number; lower: number | null; upper: number | null; pValue: number } | null;
  relative: { estimate: number | null; lower: number | null; upper: number | null } | null;
  verdict: ArmVerdict | null;
}

export interface MetricGuardrailResult {
  metric: MetricGuardrail['metric'];
  feature: string | null;
  maxDrop: number;
  harmful: boolean;
  /** Sessions (timed ones for session_duration) of the arm. */
  sample: number;
  /** Relative change against the control with the always-valid interval at the guardrail's α. */
  relative: { estimate: number | null; lower: number | null; upper: number | null };
}

export interface ExperimentResults {
  releaseId: string;
  status: ReleaseStatus;
  exposure: Exposure;
  /** False when Temporal could not be asked: the arms as stored, without statistics. */
  live: boolean;
  control: string;
  primary: ExperimentDefinition['primary'];
  guardrails: ExperimentDefinition['guardrails'];
  metricGuardrails: MetricGuardrail[];
  alpha: number;
  timeLimitAt: number | null;
  winner: string | null;
  conclusion: Conclusion | null;
  promotedArm: string | null;
  sampleRatio: SampleRatioLook | null;
  lookedAt: number | null;
  arms: ArmResult[];
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

/** The arm's own mean, proportion or rate; null before it has units. */
function armValue(summary: PrimaryMetricSummaries['arms'][string]): number | null {
  if (summary.n === 0) return null;
  if ('sum' in summary) return summary.sum / summary.n;
  return 'events' in summary ? summary.events / summary.n : summary.x / summary.n;
}

function metricGuardrailResult(verdict: MetricGuardrailVerdict): MetricGuardrailResult {
  const i = verdict.interval;
  return {
    metric: verdict.metric,
    feature: verdict.feature,
    maxDrop: verdict.maxDrop,
    harmful: verdict.harmful,
    sample: verdict.sample,
    relative: { estimate: i.relativeEstimate, lower: i.relativeLower, upper: i.relativeUpper },
  };
}

/** The results from the live workflow. */
export function liveResults(view: ExperimentView, alpha: number): ExperimentResults {
  const { experiment: e } = view;
  const look = e.look;
  const arms = e.arms.map((arm): ArmResult => {
    const judged = look?.judgement.arms.find((a) => a.arm === arm.key);
    const summary = look?.primary.arms[arm.key];
    const sample = summary?.n ?? 0;
    const i = judged?.interval;
    return {
      key: arm.key,
      version: arm.version,
      weight: arm.weight,
      installMode: arm.installMode as InstallMode,
      control: arm.control,
      stopped: arm.stopped,
      stoppedReason: arm.stoppedReason,
      guardrail: { verdict: arm.guardrail, findings: arm.guardrailFindings },
      metricGuardrails: arm.stopped ? [] : (look?.guardrails ?? []).filter((v) => v.arm === arm.key).map(metricGuardrailResult),
      sample,
      value: summary === undefined ? null : armValue(summary),
      difference: i ? { estimate: i.estimate, lower: finite(i.lower), upper: finite(i.upper), pValue: i.pValue } : null,
      relative: i ? { estimate: i.relativeEstimate, lower: i.relativeLower, upper: i.relativeUpper } : null,
      verdict: judged?.verdict ?? null,
    };
  });
  return {
    releaseId: view.releaseId,
    status: view.status,
    exposure: view.exposure,
    live: true,
    control: e.control,
    primary: e.primary,
    guardrails: e.guardrails,
    metricGuardrails: e.metricGuardrails,
    alpha,
    timeLimitAt: e.timeLimitAt,
    winner: e.promotedArm ?? e.conclusion?.winner ?? look?.judgement.winner ?? null,
    conclusion: e.conclusion,
    promotedArm: e.promotedArm,
    sampleRatio: look?.sampleRatio ?? null,
    lookedAt: look?.at ?? null,
    arms,
  };
}

/** The results when Temporal cannot be asked: the stored arms and their published state, no statistics. */
export function storedResults(
  release: { id: string; status: ReleaseStatus },
  published: { status: ReleaseStatus; exposure: Exposure } | null,
  stored: { definition: ExperimentDefinition; stoppedArms: string[]; promotedArm: string | null },
): ExperimentResults {
  const { definition } = stored;
  return {
    releaseId: release.id,
    status: published?.status ?? release.status,
    exposure: published?.exposure ?? {},
    live: false,
    control: definition.control,
    primary: definition.primary,
    guardrails: definition.guardrails,
    metricGuardrails: definition.metricGuardrails ?? [],
    alpha: definition.alpha,
    timeLimitAt: null,
    winner: stored.promotedArm,
    conclusion: null,
    promotedArm: stored.promotedArm,
    sampleRatio: null,
    lookedAt: null,
    arms: definition.arms.map((arm) => ({
      ...arm,
      control: arm.key === definition.control,
      stopped: stored.stoppedArms.includes(arm.key),
      stoppedReason: null,
      guardrail: { verdict: null, findings: [] },
      metricGuardrails: [],
      sample: 0,
      value: null,
      difference: null,
      relative: null,
      verdict: null,
    })),
  };
}
