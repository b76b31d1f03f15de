import { BPS_SCALE } from '../../domain/bucketing';
import { evaluateGates } from '../../domain/gates/evaluate-gates';
import type { GateFinding, SegmentWindow } from '../../domain/gates/gate-types';
import type { Plan } from '../../domain/plan';
import {
  accrueSoak,
  allPlanSegments,
  applyCommand,
  applyGateEvaluation,
  currentStage,
  enterStage,
  gateRequest,
  initialRolloutState,
  refusalOf,
  start,
  startSoak,
  type Command,
  type RolloutContext,
  type RolloutState,
} from '../../domain/rollout-machine';
import { type Attack, withAttack } from './attacker-model';
import { type Defect, type Fleet, type FleetModel, createFleet, exposedDevices, stepHour } from './fleet-model';
import { createRng } from '../../scripts/support/prng';

const HOUR_MS = 3_600_000;
/** Monday 2025-01-06 00:00 UTC; only differences of times matter to the machine. */
const EPOCH_MS = Date.UTC(2025, 0, 6);

/** What a paged human does when the gate pauses the release: resume at once, or leave it paused. */
export type PausePolicy = 'resume' | 'stop';

export interface ReleaseScenario {
  plan: Plan;
  fleet: FleetModel;
  defect: Defect;
  horizonHours: number;
  onPause: PausePolicy;
  /** Keys of the replicate's random streams (seed, replicate): every gate variant of it gets the same fleet. */
  streamKeys: readonly number[];
  /** Forged telemetry added to every hour (attacker-model.ts); absent: no trust split at all (the honest fleet as before). */
  attack?: Attack;
}

export interface ReleaseOutcome {
  /** running: still baking at the horizon; paused: paused and left so (onPause stop). */
  status: 'rolled_back' | 'completed' | 'paused' | 'running';
  rollbackHour: number | null;
  /** Devices that had applied the bad bundle when it was rolled back. */
  exposedAtRollback: number | null;
  rollbackStage: string | null;
  /** `gate:metric` of each acting finding that asked for the rollback. */
  rollbackBy: string[];
  /** When every segment of the plan reached 100 % exposure. */
  fullExposureHour: number | null;
  completedHour: number | null;
  pauses: { maxSoak: number; dataQuality: number };
  /** The furthest stage the release reached. */
  maxStageIndex: number;
}

const ON_CALL: Command = { actor: 'simulator:on-call', reason: 'inconclusive gate: keep baking' };

/**
 * One release driven the way workflows/rollout.ts drives it — enter the stage, publish (the soak
 * clock starts), then at every check accrue soak, evaluate the gates over the windows since the last
 * check, apply the verdict — except that checks are hourly (the plan's four 15-minute checks of an
 * hour aggregated into one counting window) and the fleet is advanced in between.
 */
export function simulateRelease(scenario: ReleaseScenario): ReleaseOutcome {
  const { plan, defect, horizonHours, onPause, streamKeys } = scenario;
  const ctx: RolloutContext = {
    releaseId: 'simulated',
    appId: 'simulated',
    channel: 'production',
    version: '2.0.0',
    plan,
    segments: allPlanSegments(plan).map((key) => ({ key, maintenanceWindows: [] })),
    windowMs: HOUR_MS,
  };
  const fleet = createFleet(scenario.fleet, plan.stages.map((s) => s.exposureBps));
  const outcome: ReleaseOutcome = {
    status: 'running',
    rollbackHour: null,
    exposedAtRollback: null,
    rollbackStage: null,
    rollbackBy: [],
    fullExposureHour: null,
    completedHour: null,
    pauses: { maxSoak: 0, dataQuality: 0 },
    maxStageIndex: 0,
  };
  const attack = scenario.attack;
  let now = EPOCH_MS + scenario.fleet.startHour * HOUR_MS;
  let state: RolloutState = start(initialRolloutState(now), ctx, 'simulator', now);

  for (let hour = 0; hour < horizonHours; hour++) {
    while (state.status === 'running' && state.phase === 'entering') {
      const entered = enterStage(state, ctx, now);
      if (entered.waitUntil !== null) throw new Error('simulated segments have no maintenance windows to wait for');
      state = entered.state;
    }
    if (state.status === 'completed') break;
    // The workflow publishes the exposure before it starts the soak clock; publishing is instant here.
    state = startSoak(state, now);
    if (outcome.fullExposureHour === null && fullyExposed(state, ctx)) outcome.fullExposureHour = hour;

    outcome.maxStageIndex = Math.max(outcome.maxStageIndex, state.stageIndex);
    const window = hourWindow(fleet, state.exposure, { defect, hour, streamKeys, attack });
    now += HOUR_MS;
    state = accrueSoak(state, now);
    const stageIndex = state.stageIndex;
    const stageName = currentStage(state, ctx).name;
    const evaluation = evaluateGates({ ...gateRequest(state, ctx), window: { start: state.gateCursor, end: now, segments: window } });
    state = applyGateEvaluation(state, ctx, { evaluation, windowEnd: now, stageIndex }, now);
    const acting = evaluation.evidence.findings.filter((f) => f.verdict === evaluation.verdict && !f.dryRun);

    if (state.status === 'rolled_back') {
      return {
        ...outcome,
        status: 'rolled_back',
        rollbackHour: hour + 1,
        exposedAtRollback: exposedDevices(fleet),
        rollbackStage: stageName,
        rollbackBy: [...new Set(acting.map(findingLabel))],
      };
    }
    if (state.status === 'completed') return { ...outcome, status: 'completed', fullExposureHour: outcome.fullExposureHour ?? hour + 1, completedHour: hour + 1 };
    if (state.status === 'paused') {
      if (acting.some((f) => f.gate === 'data_quality')) outcome.pauses.dataQuality += 1;
      else outcome.pauses.maxSoak += 1;
      if (onPause === 'stop') return { ...outcome, status: 'paused' };
      const refusal = refusalOf(state, ctx, 'resume', ON_CALL);
      if (refusal !== null) throw new Error(`the machine refused the simulated resume: ${refusal}`);
      state = applyCommand(state, ctx, 'resume', ON_CALL, now);
    }
  }
  return outcome;
}

/** One hour of the fleet as the gate reads it. Without an attack model the windows carry no trust split, exactly as before the trust model. */
function hourWindow(
  fleet: Fleet,
  exposure: Readonly<Record<string, number>>,
  at: { defect: Defect; hour: number; streamKeys: readonly number[]; attack: Attack | undefined },
): Record<string, SegmentWindow> {
  const honest = stepHour(fleet, exposure, at.defect, at.hour, (segment, stratum) => createRng([...at.streamKeys, at.hour, segment, stratum]));
  return at.attack === undefined ? honest : withAttack(honest, at.attack);
}

function fullyExposed(state: RolloutState, ctx: RolloutContext): boolean {
  return ctx.segments.every((s) => (state.exposure[s.key] ?? 0) >= BPS_SCALE);
}

function findingLabel(finding: GateFinding): string {
  return finding.metric === undefined ? finding.gate : `${finding.gate}:${finding.metric}`;
}
