import { BETA_SEGMENT, type SegmentSummary } from '../../domain/segment';
import { type Attack, attackLabel } from './attacker-model';
import type { FleetModel, SegmentModel } from './fleet-model';
import { planInput } from './alternative-plans';
import { type GateVariant, simulatedPlan } from './sim-plans';
import { type PausePolicy, type ReleaseOutcome, simulateRelease } from './simulate-release';
import { type CellSummary, summarizeCell } from './summarize';

const GENERAL_SEGMENT = 'default';

export interface SimulationOptions {
  replicates: number;
  seed: number;
  fleetDevices: number;
  ratios: number[];
  gates: GateVariant[];
  /** A preset of domain/plan.ts or one of the alternative plans. */
  plan: string;
  /** Overrides the plan's per-release α. */
  alpha: number | null;
  /** Share of the fleet in the beta segment (0: no beta segment) and how much more active it is. */
  betaShare: number;
  betaActivity: number;
  control: FleetModel['control'];
  adopterBias: number;
  onsetHour: number;
  jsErrorRatio: number;
  crashRate: number;
  jsErrorRate: number;
  bootFailureRate: number;
  installFailureRate: number;
  activeFraction: number;
  adoptionHazard: number;
  startHour: number;
  horizonHours: number;
  onPause: PausePolicy;
}

export const DEFAULT_OPTIONS: SimulationOptions = {
  replicates: 1000,
  seed: 1,
  fleetDevices: 500_000,
  ratios: [1, 1.3, 1.5, 2, 3, 10],
  gates: ['rampart', 'naive', 'naive-powered'],
  plan: 'default',
  alpha: null,
  betaShare: 0,
  betaActivity: 2,
  control: 'matched',
  adopterBias: 1,
  onsetHour: 0,
  jsErrorRatio: 1,
  crashRate: 0.001,
  jsErrorRate: 0.002,
  bootFailureRate: 0.001,
  installFailureRate: 0.001,
  activeFraction: 0.08,
  adoptionHazard: 0.1,
  startHour: 9,
  horizonHours: 8 * 24,
  onPause: 'resume',
};

function fleetModelOf(options: SimulationOptions): FleetModel {
  const beta = Math.round(options.fleetDevices * options.betaShare);
  const segments: SegmentModel[] = [{ key: GENERAL_SEGMENT, devices: options.fleetDevices - beta, activityMultiplier: 1 }];
  if (beta > 0) segments.push({ key: BETA_SEGMENT, devices: beta, activityMultiplier: options.betaActivity });
  return {
    segments,
    activeFraction: options.activeFraction,
    activityAmplitude: 0.5,
    crashRate: options.crashRate,
    jsErrorRate: options.jsErrorRate,
    bootFailureRate: options.bootFailureRate,
    installFailureRate: options.installFailureRate,
    rateAmplitude: 0.3,
    peakHour: 20,
    startHour: options.startHour,
    adoptionHazard: options.adoptionHazard,
    control: options.control,
    adopterBias: options.adopterBias,
  };
}

/** Every (gate, R) cell; replicate i of every cell draws from the same streams (common random numbers). */
export function runSimulation(options: SimulationOptions, onCell: (cell: CellSummary) => void = () => undefined): CellSummary[] {
  const fleet = fleetModelOf(options);
  const segments: SegmentSummary[] = fleet.segments.map((s) => ({ key: s.key, maintenanceWindows: [] }));
  const cells: CellSummary[] = [];
  for (const gate of options.gates) {
    const plan = simulatedPlan(planInput(options.plan, segments), segments, gate, options.alpha ?? undefined);
    for (const ratio of options.ratios) {
      const defect = { crashRatio: ratio, jsErrorRatio: options.jsErrorRatio, onsetHour: options.onsetHour };
      const outcomes: ReleaseOutcome[] = [];
      for (let replicate = 0; replicate < options.replicates; replicate++) {
        outcomes.push(
          simulateRelease({ plan, fleet, defect, horizonHours: options.horizonHours, onPause: options.onPause, streamKeys: [options.seed, replicate] }),
        );
      }
      const cell = summarizeCell(gate, ratio, options.fleetDevices, outcomes);
      cells.push(cell);
      onCell(cell);
    }
  }
  return cells;
}

/** One attack at one true ratio R, against the same replicates without it. */
export interface AttackCell {
  attack: string;
  ratio: number;
  replicates: number;
  rollbacks: number;
  /** Replicates that rolled back under the attack but not without it: rollbacks the forger caused. */
  rollbacksCaused: number;
  /** Replicates that reached a later stage under the attack than without it: stages the forger advanced. */
  stagesAdvanced: number;
  completed: number;
  pausedRuns: number;
  dataQualityPauses: number;
  /** Devices on the bundle at rollback, median over the runs that rolled back. */
  exposedMedian: number | null;
}

/** The attacker model's rows: the rampart gates only, every attack at every given R, common random numbers. */
export function runAttackSimulation(options: SimulationOptions, attacks: ReadonlyArray<{ attack: Attack; ratios: readonly number[] }>, onCell: (cell: AttackCell) => void = () => undefined): AttackCell[] {
  const fleet = fleetModelOf(options);
  const segments: SegmentSummary[] = fleet.segments.map((s) => ({ key: s.key, maintenanceWindows: [] }));
  const plan = simulatedPlan(planInput(options.plan, segments), segments, 'rampart', options.alpha ?? undefined);
  const cells: AttackCell[] = [];
  const honestRuns = new Map<number, ReleaseOutcome[]>();
  const run = (ratio: number, attack: Attack | undefined, replicate: number) =>
    simulateRelease({
      plan,
      fleet,
      defect: { crashRatio: ratio, jsErrorRatio: options.jsErrorRatio, onsetHour: options.onsetHour },
      horizonHours: options.horizonHours,
      onPause: options.onPause,
      streamKeys: [options.seed, replicate],
      attack,
    });
  for (const { attack, ratios } of attacks) {
    for (const ratio of ratios) {
      let honest = honestRuns.get(ratio);
      if (honest === undefined) honestRuns.set(ratio, (honest = Array.from({ length: options.replicates }, (_, i) => run(ratio, undefined, i))));
      const attacked = Array.from({ length: options.replicates }, (_, i) => run(ratio, attack, i));
      const cell: AttackCell = {
        attack: attackLabel(attack),
        ratio,
        replicates: options.replicates,
        rollbacks: attacked.filter((o) => o.status === 'rolled_back').length,
        rollbacksCaused: attacked.filter((o, i) => o.status === 'rolled_back' && honest[i]!.status !== 'rolled_back').length,
        stagesAdvanced: attacked.filter((o, i) => o.maxStageIndex > honest[i]!.maxStageIndex).length,
        completed: attacked.filter((o) => o.status === 'completed').length,
        pausedRuns: attacked.filter((o) => o.pauses.dataQuality + o.pauses.maxSoak > 0).length,
        dataQualityPauses: attacked.reduce((total, o) => total + o.pauses.dataQuality, 0),
        exposedMedian: median(attacked.flatMap((o) => (o.exposedAtRollback === null ? [] : [o.exposedAtRollback]))),
      };
      cells.push(cell);
      onCell(cell);
    }
  }
  return cells;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
