import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { createApiMetrics, registerReleaseGauges } from '../../../api/api-metrics';
import { createReleaseGaugeSource, releaseGaugePlan } from '../../../api/release-gauges';
import type { ReleaseGaugeRow } from '../../../db/read-models/release-gauge-read-model';
import type { ServingRelease } from '../../../domain/serving';
import { createLogger } from '../../../platform/logger';
import { bundleRef } from '../../support/fixtures';

const release = (releaseId: string, extra: Partial<ServingRelease> = {}): ServingRelease => ({
  releaseId,
  appId: 'com.example.app',
  channel: 'production',
  bucketSalt: 'salt',
  windowMs: 60_000,
  createdAt: 1,
  revision: 1,
  status: 'running',
  stageIndex: 0,
  exposure: { default: 1000, beta: 10_000 },
  publishedAt: 1,
  target: bundleRef('1.0.0'),
  fallback: null,
  ...extra,
});

const row = (releaseId: string, segment: string, cohort: ReleaseGaugeRow['cohort'], extra: Partial<ReleaseGaugeRow> = {}): ReleaseGaugeRow => ({
  releaseId,
  segment,
  cohort,
  activeDevices: 0,
  onReleaseDevices: 0,
  crashedDevices: 0,
  installsOk: 0,
  installsFailed: 0,
  ...extra,
});

describe('release gauges', () => {
  it('plans exposure from the snapshot and ratios from the rollups of releases in flight only', () => {
    const rows = [
      row('r1', 'default', 'canary', { activeDevices: 10, onReleaseDevices: 9, crashedDevices: 1, installsOk: 9, installsFailed: 1 }),
      row('r1', 'default', 'control', { activeDevices: 20, onReleaseDevices: 0, crashedDevices: 1 }),
      row('r1', 'default', 'rest', { activeDevices: 10, onReleaseDevices: 1 }),
    ];
    const plan = releaseGaugePlan([release('r1'), release('r2', { status: 'completed', target: bundleRef('0.9.0') })], rows, 2000);
    const labels = { app: 'com.example.app', version: '1.0.0' };
    expect(plan.exposure).toEqual([
      { labels: { ...labels, segment: 'beta' }, value: 1 },
      { labels: { ...labels, segment: 'default' }, value: 0.1 },
    ]);
    expect(plan.adoption).toEqual([{ labels: { ...labels, segment: 'default' }, value: 10 / 40 }]);
    expect(plan.updateSuccess).toEqual([{ labels: { ...labels, segment: 'default' }, value: 0.9 }]);
    expect(plan.crashRate).toEqual([
      { labels: { ...labels, segment: 'default', cohort: 'canary' }, value: 0.1 },
      { labels: { ...labels, segment: 'default', cohort: 'control' }, value: 0.05 },
    ]);
    expect(plan.dropped).toBe(0);
  });

  it('caps the series and drops a second release with the same app, version and segment', () => {
    const releases = [release('a', { appId: 'a', exposure: { s: 1 } }), release('b', { appId: 'b', exposure: { s: 1 } }), release('c', { appId: 'c', exposure: { s: 1 } })];
    expect(releaseGaugePlan(releases, [], 2)).toMatchObject({ dropped: 1, exposure: [{ labels: { app: 'a' } }, { labels: { app: 'b' } }] });
    const twins = [release('new', { channel: 'beta', createdAt: 2, exposure: { s: 5000 } }), release('old', { exposure: { s: 1 } })];
    expect(releaseGaugePlan(twins, [], 2000)).toMatchObject({ dropped: 1, exposure: [{ value: 0.5 }] });
  });

  it('serves scrapes from one cached rollup read and counts what it drops', async () => {
    const recent = vi.fn(() => Promise.resolve([row('r1', 'default', 'canary', { activeDevices: 4, crashedDevices: 1 })]));
    let clock = 0;
    const registry = new Registry();
    createApiMetrics(registry);
    const served = [release('r1'), release('r2', { appId: 'zzz' })];
    registerReleaseGauges(
      registry,
      createReleaseGaugeSource({
        releases: () => served,
        readModel: { recent },
        logger: createLogger('test', 'silent'),
        cacheMs: 15_000,
        maxSeries: 4,
        now: () => clock,
      }),
    );
    const text = await registry.metrics();
    expect(text).toContain('rampart_release_crash_rate{app="com.example.app",version="1.0.0",segment="default",cohort="canary"} 0.25');
    expect(text).toContain('rampart_release_exposure_ratio{app="com.example.app",version="1.0.0",segment="beta"} 1');
    expect(text).not.toContain('app="zzz"');
    expect(text).toMatch(/^rampart_release_gauge_series_dropped_total 2$/m);
    clock = 5000;
    await registry.metrics();
    expect(recent).toHaveBeenCalledTimes(1);
    clock = 20_000;
    served.length = 0;
    const after = await registry.metrics();
    expect(after).not.toMatch(/rampart_release_exposure_ratio\{/);
    expect(recent).toHaveBeenCalledTimes(1);
  });
});
