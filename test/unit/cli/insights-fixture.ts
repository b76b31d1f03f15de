import type { InsightsAnswer } from '../../../cli/insights-answer';
import { emptyFigures, insightTotals, segmentAdoption, type AdoptionBucket } from '../../../domain/insight-report';
import type { RollupCohort } from '../../../domain/insight';

const STEP = 300_000;
export const STARTED = Date.parse('2025-06-02T10:00:00.000Z');

const totals = (patch: Partial<ReturnType<typeof emptyFigures>> = {}) => insightTotals({ ...emptyFigures(), ...patch }, true);

/** Insights of a release with two segments: `default` reached 95 % after 20 min, `beta` has not. */
export function insights(overrides: Partial<InsightsAnswer> = {}): InsightsAnswer {
  const bucket = (k: number, active: number, onRelease: number): AdoptionBucket => ({ start: STARTED + k * STEP, activeDevices: active, devicesOnRelease: onRelease });
  const status = overrides.status ?? 'running';
  const adoption = (segment: string, sinceStart: AdoptionBucket[]) =>
    segmentAdoption({ segment, sinceStart, fromMs: STARTED, toMs: STARTED + 12 * STEP, startedAtMs: STARTED, stepMs: STEP, status });
  const sessions = emptyFigures().histograms.session_duration.map((_, bin) => (bin === 6 ? 10 : 0));
  const series = (segment: string, cohort: RollupCohort, patch: Parameters<typeof totals>[0]) => ({ segment, cohort, totals: totals(patch) });
  return {
    releaseId: 'rel-1',
    appId: 'com.example.app',
    channel: 'production',
    version: '1.2.0',
    status,
    step: '5m',
    from: new Date(STARTED).toISOString(),
    to: new Date(STARTED + 12 * STEP).toISOString(),
    series: [
      series('default', 'canary', { activeDevices: 200, crashedDevices: 1, installsOk: 97, installsFailed: 2, histograms: { session_duration: sessions, install_duration: [] } }),
      series('default', 'control', { activeDevices: 100, crashedDevices: 1, installsOk: 0, installsFailed: 1 }),
      series('default', 'rest', { activeDevices: 10 }),
      series('beta', 'canary', {}),
      series('beta', 'control', {}),
      series('beta', 'rest', {}),
    ],
    adoption: [adoption('default', [bucket(0, 100, 10), bucket(3, 100, 96), bucket(11, 120, 114)]), adoption('beta', [bucket(2, 10, 4)])],
    ...overrides,
  };
}
