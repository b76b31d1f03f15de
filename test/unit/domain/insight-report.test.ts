import { describe, expect, it } from 'vitest';
import { wilsonInterval } from '../../../domain/gates/intervals';
import { addAdditive, emptyFigures, insightFigures, TOP_FEATURES } from '../../../domain/insight-report';

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
    for (let i = 0; i < TOP_FEATURES + 2; i++) b.features.set(`f${i}`, i + 1);
    a.features.set('f0', 100);
    addAdditive(a, b);
    const figures = insightFigures(a);
    expect(figures.sessions).toBe(5);
    expect(figures.sessionDurationMs).toEqual({ p50: { fromMs: 1000, toMs: 2000 }, p90: { fromMs: 1000, toMs: 2000 } });
    expect(figures.topFeatures).toHaveLength(TOP_FEATURES);
    expect(figures.topFeatures[0]).toEqual({ feature: 'f0', uses: 101 });
  });
});
