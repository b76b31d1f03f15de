import type { ReleaseAnswer } from './release-answer';

export interface StageProgress {
  soakedMs: number;
  minSoakMs: number;
  maxSoakMs: number;
  checkIntervalMs: number;
  /** When the workflow should next evaluate the gates; null unless it is running and baking. */
  nextCheckAt: number | null;
}

/**
 * How far the current stage has baked, against the plan's stage. Null while the stage is being
 * entered (waiting for a window, or a full promotion), when nothing has baked yet.
 */
export function stageProgress(release: ReleaseAnswer): StageProgress | null {
  const stage = release.plan?.stages[release.stageIndex];
  if (!stage || release.phase !== 'baking' || release.soakedMs === null || release.stageName === 'promote-full') return null;
  // The workflow waits one check interval after every check and after every transition (a command
  // restarts the wait), so the later of the two is when the current wait began.
  const lastCheck = release.gates?.at ?? 0;
  const lastTransition = release.history.at(-1)?.at ?? 0;
  const waitingSince = Math.max(lastCheck, lastTransition);
  return {
    soakedMs: release.soakedMs,
    minSoakMs: stage.minSoakMs,
    maxSoakMs: stage.maxSoakMs,
    checkIntervalMs: stage.checkIntervalMs,
    nextCheckAt: release.status === 'running' && waitingSince > 0 ? waitingSince + stage.checkIntervalMs : null,
  };
}
