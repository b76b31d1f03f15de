import { ApplicationFailure } from '@temporalio/activity';
import type { Transactor } from '../db/create-stores';
import type { ComparedSlices, GateWindowStore } from '../db/stores/gate-window-store';
import type { ExperimentStore, PublishedExperimentState } from '../db/stores/experiment-store';
import type { ArmMetrics, ArmWindowTotals } from '../domain/experiment-machine';
import { evaluateGates } from '../domain/gates/evaluate-gates';
import type { GateEvaluation, GateEvaluationInput, GateWindow } from '../domain/gates/gate-types';
import type { PublishedState } from '../domain/release';
import type { Logger } from '../platform/logger';
import type { ActivityMetrics } from './activity-metrics';
import type { PublishResult } from './create-activities';
import { passBarrier } from './settled-window';

export interface ExperimentActivityDeps {
  gateWindows: GateWindowStore;
  experiments: ExperimentStore;
  transaction: Transactor;
  logger: Logger;
  metrics: ActivityMetrics;
}

export interface EvaluateExperimentInput {
  releaseId: string;
  windowMs: number;
  from: number;
  to: number;
  control: string;
  /** Every treatment arm still running, with the slices to compare and its guardrail request. */
  arms: Array<{ arm: string; slices: ComparedSlices; request: Omit<GateEvaluationInput, 'window'> }>;
  /** Bucket size of the rollups the primary metric is read from. */
  metricsStepMs: number;
}

export interface EvaluateExperimentResult {
  arms: Record<string, GateEvaluation>;
  windows: Record<string, ArmWindowTotals>;
  metrics: Record<string, ArmMetrics> | null;
  windowEnd: number;
}

export interface PublishExperimentInput {
  state: PublishedState;
  experiment: PublishedExperimentState;
}

/** Device-windows on the cohort's bundle and those with a crash, over every segment of the window. */
function totalsOf(window: GateWindow, cohort: 'canary' | 'control'): ArmWindowTotals {
  let deviceWindows = 0;
  let crashed = 0;
  for (const segment of Object.values(window.segments)) {
    deviceWindows += segment[cohort].devices;
    crashed += segment[cohort].events.crash;
  }
  return { deviceWindows, crashed };
}

/**
 * The arm windows go to the gates without their slice sizes: the gate's own sample-ratio check
 * expects a rollout's mirrored slices, while the experiment checks its whole split across all arms.
 */
function withoutSliceSizes(window: GateWindow): GateWindow {
  const segments = Object.fromEntries(Object.entries(window.segments).map(([key, w]) => [key, { ...w, canarySliceDevices: 0, controlSliceDevices: 0 }]));
  return { ...window, segments };
}

export function createExperimentActivities(deps: ExperimentActivityDeps) {
  return {
    /**
     * Reads each running arm's windows against the control arm's and lets the rollout gates judge
     * them (a failed read is counted by the gates, as for a release), plus every arm's cumulative
     * rollups for the primary metric and the sample-ratio check.
     */
    async evaluateExperiment(input: EvaluateExperimentInput): Promise<EvaluateExperimentResult> {
      if (!(input.windowMs > 0)) throw ApplicationFailure.nonRetryable(`invalid windowMs ${input.windowMs}`, 'InvalidGateRequest');
      let windowEnd = input.from;
      let read: Array<GateWindow | null>;
      try {
        const settled = await passBarrier(deps, input);
        windowEnd = settled.end;
        read = await Promise.all(input.arms.map((a) => deps.gateWindows.read(input.releaseId, settled.start, settled.end, a.slices)));
      } catch (err) {
        deps.logger.error({ err, releaseId: input.releaseId }, 'reading experiment guardrail counts failed');
        deps.metrics.gateReadErrors.inc();
        read = input.arms.map(() => null);
      }
      let metrics: Record<string, ArmMetrics> | null;
      try {
        metrics = await deps.experiments.armMetrics(input.releaseId, input.metricsStepMs);
      } catch (err) {
        deps.logger.error({ err, releaseId: input.releaseId }, 'reading experiment metrics failed');
        metrics = null;
      }
      const arms: Record<string, GateEvaluation> = {};
      const windows: Record<string, ArmWindowTotals> = {};
      input.arms.forEach(({ arm, request }, i) => {
        const window = read[i] ?? null;
        const evaluation = evaluateGates({ ...request, window: window === null ? null : withoutSliceSizes(window) });
        arms[arm] = evaluation;
        deps.metrics.experimentGuardrailVerdicts.inc({ verdict: evaluation.verdict });
        if (window === null) return;
        windows[arm] = totalsOf(window, 'canary');
        windows[input.control] ??= totalsOf(window, 'control');
      });
      const complete = read.every((w) => w !== null);
      return { arms, windows, metrics, windowEnd: complete ? windowEnd : input.from };
    },

    /**
     * Publishes an experiment's state: the rollout state (exposure, status) and the arms' state
     * (stopped, promoted) of the same revision in one transaction, so devices never see one without
     * the other. Idempotent through the revision guard, like publishRolloutState.
     */
    async publishExperimentState(input: PublishExperimentInput): Promise<PublishResult> {
      if (!Number.isInteger(input.state.revision) || input.state.revision < 1) {
        throw ApplicationFailure.nonRetryable(`invalid revision ${input.state.revision}`, 'InvalidRolloutState');
      }
      const written = await deps.transaction(async (stores) => {
        // A refused rollout publish (a retry after commit, or a withdrawn release) writes nothing else either.
        const published = await stores.rolloutStates.publish(input.state);
        if (published) await stores.experiments.publish(input.experiment);
        return published;
      });
      deps.metrics.published.inc({ status: input.state.status, written: String(written) });
      return { written };
    },
  };
}

export type ExperimentActivities = ReturnType<typeof createExperimentActivities>;
