import type { GateFinding, GateState, GateWindow, StageContext } from './gate-types';
import { formatNumber } from './format-number';
import { SRM_P_VALUE, sampleRatioCheck } from './sample-ratio';

/** Argo's consecutiveErrorLimit: a flaky read is retried, a broken pipeline pages someone. */
export const READ_ERROR_LIMIT = 4;
/** Windows in a row without a single canary device before a soaked stage pauses. */
export const EMPTY_WINDOW_LIMIT = 2;

/**
 * Reasons to distrust the data rather than the release: they pause (or, for a read error not yet
 * repeated, hold the stage for a retry) and never roll back. `state` already includes `window`.
 */
export function dataQualityFindings(state: GateState, window: GateWindow | null, stage: StageContext, dryRun: boolean): GateFinding[] {
  const finding = (verdict: GateFinding['verdict'], message: string, segment?: string): GateFinding => ({
    gate: 'data_quality',
    ...(segment === undefined ? {} : { segment }),
    verdict,
    dryRun,
    message,
  });
  if (window === null) {
    const errors = state.readErrorsInARow;
    return errors >= READ_ERROR_LIMIT
      ? [finding('pause', `metric read failed ${errors} times in a row (limit ${READ_ERROR_LIMIT}) → pause`)]
      : [finding('continue', `metric read failed (${errors} in a row, pausing at ${READ_ERROR_LIMIT}) → retry at the next check`)];
  }

  const findings: GateFinding[] = [];
  const mixedSlices = stage.bakeStartedAt !== null && window.start < stage.bakeStartedAt;
  for (const [segment, exposureBps] of mixedSlices ? [] : Object.entries(stage.exposureBps)) {
    const counts = window.segments[segment];
    if (counts === undefined) continue;
    const check = sampleRatioCheck(counts.canarySliceDevices, counts.controlSliceDevices, exposureBps);
    if (check?.mismatch !== true) continue;
    findings.push(
      finding(
        'pause',
        `sample ratio mismatch on ${segment}: ${counts.canarySliceDevices} canary-slice vs ${counts.controlSliceDevices} control-slice devices ` +
          `(expected canary share ${formatNumber(check.expectedCanaryShare)}), χ² ${formatNumber(check.chiSquare)}, ` +
          `p ${formatNumber(check.pValue)} < ${formatNumber(SRM_P_VALUE)} → pause`,
        segment,
      ),
    );
  }
  if (stage.soakedMs >= stage.minSoakMs && state.emptyWindowsInARow >= EMPTY_WINDOW_LIMIT) {
    findings.push(
      finding('pause', `no canary devices in the last ${state.emptyWindowsInARow} windows after the minimum soak → pause (never auto-promote without data)`),
    );
  }
  return findings;
}
