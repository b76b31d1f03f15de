import { describe, expect, it } from 'vitest';
import {
  DURATION_BIN_EDGES_MS,
  MAX_FEATURE_NAMES_PER_APP,
  ROLLUP_SET_BITS,
  bucketStartOf,
  durationBin,
  featureTracking,
  foldRollups,
  histogramQuantile,
  reportedDurationMs,
  rollupCohortOf,
  type RollupEvent,
} from '../../../domain/insight';

const T0 = Date.UTC(2026, 11, 2, 10, 3, 0);
const event = (over: Partial<RollupEvent>): RollupEvent => ({
  appId: 'app',
  releaseId: 'r',
  segment: 'default',
  cohort: 'canary',
  deviceId: 'd1',
  type: 'session_start',
  onRelease: true,
  occurredAtMs: T0,
  details: null,
  ...over,
});

describe('durationBin', () => {
  it('puts a duration in the bin whose lower edge it reaches, the last bin open-ended', () => {
    expect(durationBin(0)).toBe(0);
    expect(durationBin(999)).toBe(0);
    expect(durationBin(1000)).toBe(1);
    expect(durationBin(59_999)).toBe(5);
    expect(durationBin(60_000)).toBe(6);
    expect(durationBin(86_400_000)).toBe(DURATION_BIN_EDGES_MS.length - 1);
    for (const [i, edge] of DURATION_BIN_EDGES_MS.entries()) expect(durationBin(edge)).toBe(i);
  });
});

describe('histogramQuantile', () => {
  it('names the bin holding the quantile, null when empty', () => {
    expect(histogramQuantile([0, 0, 0], 0.5)).toBeNull();
    expect(histogramQuantile([1, 1, 8], 0.5)).toEqual({ fromMs: 2000, toMs: 5000 });
    expect(histogramQuantile([5, 5], 0.5)).toEqual({ fromMs: 0, toMs: 1000 });
    expect(histogramQuantile([5, 5], 0.9)).toEqual({ fromMs: 1000, toMs: 2000 });
    const last = new Array<number>(DURATION_BIN_EDGES_MS.length).fill(0);
    last[last.length - 1] = 3;
    expect(histogramQuantile(last, 0.9)).toEqual({ fromMs: 3_600_000, toMs: null });
  });
});

describe('reportedDurationMs', () => {
  it('accepts whole milliseconds within a day only', () => {
    expect(reportedDurationMs({ durationMs: 1500 })).toBe(1500);
    expect(reportedDurationMs({ durationMs: -1 })).toBeNull();
    expect(reportedDurationMs({ durationMs: 1.5 })).toBeNull();
    expect(reportedDurationMs({ durationMs: '100' })).toBeNull();
    expect(reportedDurationMs(null)).toBeNull();
  });
});

describe('foldRollups', () => {
  it('lands every event in one bucket per step and folds repeated keys', () => {
    const batch = foldRollups([
      event({ type: 'session_start' }),
      event({ type: 'session_start', occurredAtMs: T0 + 60_000 }),
      event({ type: 'install_ok', details: { durationMs: 3000 } }),
      event({ type: 'install_failed', deviceId: 'd2', onRelease: false }),
      event({ type: 'session_end', details: { durationMs: 40_000 } }),
      event({ type: 'crash', deviceId: 'd2', onRelease: false }),
      event({ type: 'js_error' }),
      event({ type: 'feature_used', details: { feature: 'search' } }),
      event({ type: 'feature_used', deviceId: 'd2', onRelease: false, details: { feature: 'search' } }),
    ]);
    expect(batch.counters).toEqual([
      { releaseId: 'r', segment: 'default', cohort: 'canary', stepMs: 300_000, bucketStart: bucketStartOf(T0, 300_000), installsOk: 1, installsFailed: 1, sessions: 2, timedSessions: 1, sessionMsSum: 40_000, sessionMsSquares: 40_000 ** 2 },
      { releaseId: 'r', segment: 'default', cohort: 'canary', stepMs: 3_600_000, bucketStart: bucketStartOf(T0, 3_600_000), installsOk: 1, installsFailed: 1, sessions: 2, timedSessions: 1, sessionMsSum: 40_000, sessionMsSquares: 40_000 ** 2 },
    ]);
    const bits = ROLLUP_SET_BITS;
    expect(batch.memberships.filter((m) => m.stepMs === 300_000).map((m) => [m.deviceId, m.sets])).toEqual([
      ['d1', bits.active | bits.on_release | bits.js_error],
      ['d2', bits.active | bits.crashed],
    ]);
    expect(batch.histograms.filter((h) => h.stepMs === 300_000).map((h) => [h.histogram, h.bin, h.count])).toEqual([
      ['install_duration', 2, 1],
      ['session_duration', 5, 1],
    ]);
    expect(batch.features.map((f) => [f.stepMs, f.feature, f.count])).toEqual([
      [300_000, 'search', 2],
      [3_600_000, 'search', 2],
    ]);
  });

  it('orders rows the same way whatever order events came in', () => {
    const events = ['c', 'a', 'b'].map((deviceId, i) => event({ deviceId, segment: `s${2 - i}`, occurredAtMs: T0 + i * 400_000 }));
    expect(foldRollups(events)).toEqual(foldRollups([...events].reverse()));
  });

  it('maps the attribution cohort none to rest', () => {
    expect(rollupCohortOf('none')).toBe('rest');
    expect(rollupCohortOf('control')).toBe('control');
  });
});

describe(featureTracking.name, () => {
  const full = Array.from({ length: MAX_FEATURE_NAMES_PER_APP }, (_, i) => `f${i}`);
  it('tells a kept name, a name still admissible while the app has room, and one that would count as other', () => {
    expect(featureTracking(full, 'f3')).toBe('kept');
    expect(featureTracking(full.slice(1), 'search')).toBe('admissible');
    expect(featureTracking(full, 'search')).toBe('other');
    expect(featureTracking([], 'other')).toBe('other');
  });
});
