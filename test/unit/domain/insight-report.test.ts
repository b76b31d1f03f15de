import { describe, expect, it } from 'vitest';
import { wilsonInterval } from '../../../domain/gates/intervals';
import { addAdditive, emptyFigures, featurePositions, insightFigures, insightTotals, segmentAdoption, timeToAdoption, TOP_FEATURES, type AdoptionBucket } from '../../../domain/insight-report';

describe('insightFigures', () => {
  it('derives rates from the distinct-device counts and the update success interval from the installs', () => {
    const f = { ...emptyFigures(), activeDevices: 200, onReleaseDevices: 150, crashedDevices: 4, jsErrorDevices: 10, installsOk: 95, installsFailed: 5 };
    const figures = insightFigures(f);
    expect(figures).toMatchObject({ adoption: 0.75, crashFreeRate: 0.98, crashDeviceRate: 0.02, jsErrorDeviceRate: 0.05, installs: { ok: 95, failed: 5 } });
    expect(figures.updateSuccess).toEqual({ rate: 0.95, interval: wilsonInterval(95, 100) });
  });

  it('has no rates without devices or installs', () => {
    expect(insightFigures(emptyFigures())).toMatchObject({ adoption: null, crashFreeRate: null, updateSuccess: null, sessionDurationMs: { p50: null, p90: null } });
  });

  it('adds histograms, counters and feature uses of buckets, and keeps the top features', () => {
    const a = emptyFigures();
    const b = emptyFigures();
    a.sessions = 2;
    b.sessions = 3;
    a.histograms.session_duration[1] = 9;
    b.histograms.session_duration[6] = 1;
    // Positions 0 and 13 are both `other` (one named after the names were read); f11 is least used.
    const names = ['other', ...Array.from({ length: TOP_FEATURES + 2 }, (_, i) => `f${i}`)];
    b.featureUses = [5, ...Array.from({ length: TOP_FEATURES + 2 }, (_, i) => i + 1), 3];
    a.featureUses = [0, 100];
    addAdditive(a, b);
    const totals = insightTotals(a, true, names);
    expect(totals.sessions).toBe(5);
    expect(totals.sessionDurationMs).toEqual({ p50: { fromMs: 1000, toMs: 2000 }, p90: { fromMs: 1000, toMs: 2000 } });
    expect(totals.topFeatures).toHaveLength(TOP_FEATURES);
    expect(totals.topFeatures.slice(0, 3)).toEqual([
      { feature: 'f0', uses: 101 },
      { feature: 'f11', uses: 12 },
      { feature: 'f10', uses: 11 },
    ]);
    expect(totals.topFeatures).toContainEqual({ feature: 'other', uses: 8 });
    expect(totals.featureUses).toBeUndefined();
  });

  it('lists the uses of the features asked for, per bucket and in the totals, 0 for one never used', () => {
    const names = ['other', 'search', 'checkout'];
    const f = { ...emptyFigures(), featureUses: [2, 7] };
    const wanted = featurePositions(names, ['checkout', 'search', 'other', 'unseen']);
    expect(insightFigures(f, wanted).featureUses).toEqual({ checkout: 0, search: 7, other: 2, unseen: 0 });
    expect(insightTotals(f, false, names, wanted)).toMatchObject({ featureUses: { search: 7 }, topFeatures: [{ feature: 'search', uses: 7 }, { feature: 'other', uses: 2 }] });
    expect(insightFigures(f)).not.toHaveProperty('featureUses');
  });
});

describe('segment adoption', () => {
  const STEP = 300_000;
  const T0 = Date.parse('2026-12-01T10:00:00Z');
  // The release starts 2 minutes into the first bucket; the buckets climb, dip, then reach 95 %.
  const startedAt = T0 + 120_000;
  const bucket = (i: number, active: number, onRelease: number): AdoptionBucket => ({ start: T0 + i * STEP, activeDevices: active, devicesOnRelease: onRelease });
  const series = [bucket(4, 100, 96), bucket(0, 100, 10), bucket(1, 200, 100), bucket(2, 100, 91), bucket(3, 0, 0), bucket(5, 50, 20)];

  it('finds the first bucket reaching each level, timed from the start to its end', () => {
    expect(timeToAdoption(series, 0.5, startedAt, STEP)).toEqual({ level: 0.5, bucketStart: '2026-12-01T10:05:00.000Z', afterMs: 2 * STEP - 120_000 });
    expect(timeToAdoption(series, 0.9, startedAt, STEP)).toMatchObject({ bucketStart: '2026-12-01T10:10:00.000Z', afterMs: 3 * STEP - 120_000 });
    // 95 %: not 10:10 (91 %), not the empty 10:15, but 10:20 (96 %) — even though 10:25 falls back to 40 %.
    expect(timeToAdoption(series, 0.95, startedAt, STEP)).toEqual({ level: 0.95, bucketStart: '2026-12-01T10:20:00.000Z', afterMs: 5 * STEP - 120_000 });
    expect(timeToAdoption(series.slice(1), 0.95, startedAt, STEP)).toBeNull();
    expect(timeToAdoption([], 0.5, startedAt, STEP)).toBeNull();
  });

  it('ignores buckets before the release started', () => {
    expect(timeToAdoption([bucket(-1, 10, 10), bucket(0, 10, 1)], 0.5, startedAt, STEP)).toBeNull();
  });

  it('draws the curve within the range and counts devices left on a withdrawn bundle', () => {
    const input = { segment: 'default', sinceStart: series, fromMs: T0 + STEP, toMs: T0 + 5 * STEP, startedAtMs: startedAt, stepMs: STEP };
    const running = segmentAdoption({ ...input, status: 'running' });
    expect(running.curve.map((p) => [p.start.slice(11, 16), p.adoption])).toEqual([
      ['10:05', 0.5],
      ['10:10', 0.91],
      ['10:15', null],
      ['10:20', 0.96],
    ]);
    expect(running.timeToAdoption['95']?.bucketStart).toBe('2026-12-01T10:20:00.000Z');
    expect(running.devicesOnWithdrawnBundle).toBeNull();
    expect(segmentAdoption({ ...input, status: 'rolled_back' }).devicesOnWithdrawnBundle).toBe(20);
    expect(segmentAdoption({ ...input, sinceStart: [], status: 'aborted' }).devicesOnWithdrawnBundle).toBe(0);
  });
});
