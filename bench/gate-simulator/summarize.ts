import type { ReleaseOutcome } from './simulate-release';

/** The figures of one (gate, R) cell over its replicates. Shares are fractions (0…1). */
export interface CellSummary {
  gate: string;
  ratio: number;
  replicates: number;
  rollbacks: number;
  rollbackRate: number;
  /** Devices on the bad bundle at rollback, over the runs that rolled back; null when none did. */
  exposedMedian: number | null;
  exposedP90: number | null;
  exposedMedianShareOfFleet: number | null;
  exposedP90ShareOfFleet: number | null;
  hoursToRollbackMedian: number | null;
  /** Among the runs that did not roll back. */
  notRolledBack: number;
  reachedFullShare: number | null;
  hoursToFullMedian: number | null;
  completedShare: number | null;
  hoursToCompletedMedian: number | null;
  /** Runs paused at least once, and pauses by cause (soak: max soak without passing; data quality: SRM, no data). */
  pausedRuns: number;
  pauses: { maxSoak: number; dataQuality: number };
  rollbackStages: Record<string, number>;
  rollbackBy: Record<string, number>;
}

export function summarizeCell(gate: string, ratio: number, fleetDevices: number, outcomes: readonly ReleaseOutcome[]): CellSummary {
  const rolledBack = outcomes.filter((o) => o.status === 'rolled_back');
  const kept = outcomes.filter((o) => o.status !== 'rolled_back');
  const exposed = rolledBack.map((o) => o.exposedAtRollback ?? 0);
  const exposedMedian = quantile(exposed, 0.5);
  const exposedP90 = quantile(exposed, 0.9);
  const reachedFull = kept.filter((o) => o.fullExposureHour !== null);
  const completed = kept.filter((o) => o.status === 'completed');
  return {
    gate,
    ratio,
    replicates: outcomes.length,
    rollbacks: rolledBack.length,
    rollbackRate: share(rolledBack.length, outcomes.length) ?? 0,
    exposedMedian,
    exposedP90,
    exposedMedianShareOfFleet: exposedMedian === null ? null : exposedMedian / fleetDevices,
    exposedP90ShareOfFleet: exposedP90 === null ? null : exposedP90 / fleetDevices,
    hoursToRollbackMedian: quantile(rolledBack.map((o) => o.rollbackHour ?? 0), 0.5),
    notRolledBack: kept.length,
    reachedFullShare: share(reachedFull.length, kept.length),
    hoursToFullMedian: quantile(reachedFull.map((o) => o.fullExposureHour ?? 0), 0.5),
    completedShare: share(completed.length, kept.length),
    hoursToCompletedMedian: quantile(completed.map((o) => o.completedHour ?? 0), 0.5),
    pausedRuns: outcomes.filter((o) => o.pauses.maxSoak + o.pauses.dataQuality > 0).length,
    pauses: {
      maxSoak: outcomes.reduce((sum, o) => sum + o.pauses.maxSoak, 0),
      dataQuality: outcomes.reduce((sum, o) => sum + o.pauses.dataQuality, 0),
    },
    rollbackStages: tally(rolledBack.map((o) => o.rollbackStage ?? '?')),
    rollbackBy: tally(rolledBack.flatMap((o) => o.rollbackBy)),
  };
}

/** Linear interpolation between order statistics (Hyndman–Fan type 7, R's default); null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}

function share(count: number, of: number): number | null {
  return of > 0 ? count / of : null;
}

function tally(labels: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}
