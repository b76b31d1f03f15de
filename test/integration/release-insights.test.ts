import { describe, expect, it } from 'vitest';
import { MAX_FEATURE_NAMES_PER_APP } from '../../domain/insight';
import { createAppWithBundles, deviceInBuckets, startRelease, bucketSaltOf } from '../support/fixtures';
import { createHttp } from '../support/http';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

const APP = 'com.example.insight';
const plan = { stages: [1000, 10_000].map((exposureBps) => ({ segments: ['default'], exposureBps, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] })) };

describe('GET /v1/releases/:id/insights', () => {
  const ctx = useTestStack();
  let id = '';

  const report = (deviceId: string, events: Array<Record<string, unknown>>) =>
    ctx.device.post(`/v1/apps/${APP}/events`, {
      deviceId,
      platform: 'ios',
      nativeVersion: '3.0.0',
      events: events.map((e) => ({ at: new Date().toISOString(), ...e })),
    });

  it('answers per segment and cohort from the rollups, with totals and the gate view', async () => {
    await createAppWithBundles(ctx.admin, APP, ['1.0.0']);
    id = await startRelease(ctx.admin, APP, { version: '1.0.0', plan });
    await waitForServed(ctx.stack, id, (r) => r.exposure.default === 1000);
    const salt = await bucketSaltOf(ctx.stack, id);
    const canary = deviceInBuckets(salt, 0, 1000);
    const rest = deviceInBuckets(salt, 2000, 10_000);

    const canaryEvents = [
      { type: 'install_ok', bundleVersion: '1.0.0', durationMs: 3000 },
      { type: 'session_start', bundleVersion: '1.0.0' },
      { type: 'session_end', bundleVersion: '1.0.0', durationMs: 40_000 },
      { type: 'feature_used', bundleVersion: '1.0.0', feature: 'search' },
      { type: 'crash', bundleVersion: '1.0.0' },
    ];
    expect((await report(canary, canaryEvents)).status).toBe(202);
    expect((await report(rest, [{ type: 'session_start', bundleVersion: 'builtin' }, { type: 'js_error', bundleVersion: 'builtin' }])).status).toBe(202);

    const res = await ctx.admin.get(`/v1/releases/${id}/insights?step=5m`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ releaseId: id, appId: APP, version: '1.0.0', step: '5m' });
    expect(res.body).toHaveProperty('gates');
    expect(res.body.series.map((s: { segment: string; cohort: string }) => `${s.segment}/${s.cohort}`)).toEqual(['default/canary', 'default/control', 'default/rest']);
    const [canarySeries, controlSeries, restSeries] = res.body.series;
    expect(canarySeries.points).toHaveLength(1);
    expect(canarySeries.points[0]).toMatchObject({
      activeDevices: 1,
      devicesOnRelease: 1,
      adoption: 1,
      installs: { ok: 1, failed: 0 },
      updateSuccess: { rate: 1 },
      sessions: 1,
      sessionDurationMs: { p50: { fromMs: 30_000, toMs: 60_000 }, p90: { fromMs: 30_000, toMs: 60_000 } },
      installDurationMs: { p50: { fromMs: 2000, toMs: 5000 } },
      crashFreeRate: 0,
      crashDeviceRate: 1,
      jsErrorDeviceRate: 0,
    });
    expect(canarySeries.points[0]).not.toHaveProperty('topFeatures');
    expect(canarySeries.totals.topFeatures).toEqual([{ feature: 'search', uses: 1 }]);
    expect(canarySeries.points[0].updateSuccess.interval[1]).toBe(1);
    expect(canarySeries.points[0].updateSuccess.interval[0]).toBeLessThan(0.5);
    expect(canarySeries.totals).toMatchObject({ activeDevices: 1, devicesOnRelease: 1, sessions: 1 });
    expect(controlSeries.points).toEqual([]);
    expect(controlSeries.totals).toMatchObject({ activeDevices: 0, adoption: null, updateSuccess: null });
    expect(restSeries.points[0]).toMatchObject({ activeDevices: 1, devicesOnRelease: 0, adoption: 0, jsErrorDeviceRate: 1, crashFreeRate: 1 });

    // Asked for, each point lists the uses of the named features, those without uses too.
    const named = await ctx.admin.get(`/v1/releases/${id}/insights?step=5m&cohort=canary&feature=search&feature=other&feature=unseen`);
    expect(named.body.series[0].points[0].featureUses).toEqual({ search: 1, other: 0, unseen: 0 });
    expect(named.body.series[0].totals.featureUses).toEqual({ search: 1, other: 0, unseen: 0 });

    // A device counts once per bucket however often it reports; an answer never shows a bucket as an earlier one read it.
    expect((await report(canary, canaryEvents)).status).toBe(202);
    const reread = await ctx.admin.get(`/v1/releases/${id}/insights?step=5m&cohort=canary&feature=search`);
    expect(reread.body.series[0].points[0]).toMatchObject({ activeDevices: 1, installs: { ok: 2, failed: 0 }, sessions: 2, featureUses: { search: 2 } });
    const again = await ctx.admin.get(`/v1/releases/${id}/insights?step=1h&cohort=canary&segment=default`);
    expect(again.body.series).toHaveLength(1);
    expect(again.body.series[0].totals).toMatchObject({ activeDevices: 1, crashFreeRate: 0, installs: { ok: 2, failed: 0 }, sessions: 2 });
    // Once retention purged which devices a bucket counted, range totals cannot count distinct devices any more.
    await ctx.stack.db.pool.query('DELETE FROM rollup_bucket_devices WHERE bucket_id IN (SELECT b.bucket_id FROM rollup_buckets b WHERE b.release_id = $1)', [id]);
    const purged = await ctx.admin.get(`/v1/releases/${id}/insights?cohort=canary`);
    expect(purged.body.series[0].points[0]).toMatchObject({ activeDevices: 1, crashFreeRate: 0 });
    expect(purged.body.series[0].totals).toMatchObject({ activeDevices: null, adoption: null, crashFreeRate: null, sessions: 2 });
  });

  it('follows adoption per segment over a scripted fleet: curve, time to 50/90/95 %, devices left on the withdrawn bundle', async () => {
    const app = 'com.example.adoption';
    await createAppWithBundles(ctx.admin, app, ['1.0.0']);
    const rid = await startRelease(ctx.admin, app, { version: '1.0.0', plan: { stages: [{ ...plan.stages[1]!, exposureBps: 10_000 }] } });
    await waitForServed(ctx.stack, rid, (r) => r.exposure.default === 10_000);
    const startedAt = Date.parse((await ctx.admin.get(`/v1/releases/${rid}`)).body.createdAt as string);
    const STEP = 300_000;
    // Buckets from the one after the release's start; events are dated a minute into each (ahead of now, within a day).
    const bucket = (k: number) => (Math.floor(startedAt / STEP) + 1 + k) * STEP;
    const devices = Array.from({ length: 20 }, (_, i) => `adopter-${i}`);
    // Devices on 1.0.0 by bucket k: 20 %, 50 %, 90 %, 95 %, 100 %.
    const adoptedBy = [4, 10, 18, 19, 20];
    const post = (deviceId: string, k: number, events: Array<{ type: string; bundleVersion: string }>) =>
      ctx.device.post(`/v1/apps/${app}/events`, {
        deviceId,
        platform: 'ios',
        nativeVersion: '3.0.0',
        events: events.map((e, i) => ({ at: new Date(bucket(k) + 60_000 + i * 1000).toISOString(), ...e })),
      });
    for (const [k, adopted] of adoptedBy.entries()) {
      const before = k === 0 ? 0 : adoptedBy[k - 1]!;
      const results = await Promise.all(
        devices.map((d, i) => {
          if (i >= adopted) return post(d, k, [{ type: 'session_start', bundleVersion: 'builtin' }]);
          if (i < before) return post(d, k, [{ type: 'session_start', bundleVersion: '1.0.0' }]);
          // Adopting in this bucket: on the old bundle first, then the release's — still one device of the bucket.
          return post(d, k, [
            { type: 'session_start', bundleVersion: 'builtin' },
            { type: 'install_ok', bundleVersion: '1.0.0' },
            { type: 'session_start', bundleVersion: '1.0.0' },
          ]);
        }),
      );
      expect(results.map((r) => r.status)).toEqual(devices.map(() => 202));
    }
    const to = new Date(bucket(8)).toISOString();
    const insights = async (): Promise<Record<string, any>> => (await ctx.admin.get(`/v1/releases/${rid}/insights?step=5m&to=${to}&cohort=canary`)).body as Record<string, any>;
    const running = await insights();
    expect(running.adoption).toHaveLength(1);
    const [segment] = running.adoption;
    expect(segment.segment).toBe('default');
    expect(segment.curve.map((p: { adoption: number }) => p.adoption)).toEqual([0.2, 0.5, 0.9, 0.95, 1]);
    expect(segment.curve.map((p: { activeDevices: number }) => p.activeDevices)).toEqual([20, 20, 20, 20, 20]);
    const after = (k: number) => bucket(k) + STEP - startedAt;
    expect(segment.timeToAdoption['50']).toEqual({ level: 0.5, bucketStart: new Date(bucket(1)).toISOString(), afterMs: after(1) });
    expect(segment.timeToAdoption['90']).toMatchObject({ afterMs: after(2) });
    expect(segment.timeToAdoption['95']).toEqual({ level: 0.95, bucketStart: new Date(bucket(3)).toISOString(), afterMs: after(3) });
    expect(segment.devicesOnWithdrawnBundle).toBeNull();

    expect((await ctx.admin.post(`/v1/releases/${rid}/rollback`, { reason: 'adoption test' })).status).toBe(200);
    await waitForServed(ctx.stack, rid, (r) => r.status === 'rolled_back');
    // After the rollback, 7 devices still run 1.0.0 and 5 went back to the builtin bundle; the rest are silent.
    const late = await Promise.all(devices.slice(0, 12).map((d, i) => post(d, 6, [{ type: 'session_start', bundleVersion: i < 7 ? '1.0.0' : 'builtin' }])));
    expect(late.map((r) => r.status)).toEqual(late.map(() => 202));
    const rolledBack = await insights();
    expect(rolledBack.status).toBe('rolled_back');
    expect(rolledBack.adoption[0].devicesOnWithdrawnBundle).toBe(7);
    expect(rolledBack.adoption[0].curve.at(-1)).toMatchObject({ activeDevices: 12, devicesOnRelease: 7 });
    // Milestones are read from the release's start whatever the range asked for.
    const narrow = (await ctx.admin.get(`/v1/releases/${rid}/insights?step=5m&from=${new Date(bucket(6)).toISOString()}&to=${to}`)).body;
    expect(narrow.adoption[0].curve).toHaveLength(1);
    expect(narrow.adoption[0].timeToAdoption['95']).toMatchObject({ afterMs: after(3) });

    // Once retention purged the buckets' device memberships, a bucket adds its cohorts' counts: a
    // device that changed cohort within the bucket (builtin, then 1.0.0) then counts in both.
    await ctx.stack.db.pool.query('DELETE FROM rollup_bucket_devices WHERE bucket_id IN (SELECT b.bucket_id FROM rollup_buckets b WHERE b.release_id = $1)', [rid]);
    type Purged = { series: Array<{ points: Array<{ start: string; activeDevices: number }> }>; adoption: Array<{ curve: Array<{ activeDevices: number }> }> };
    const purged = (await ctx.admin.get(`/v1/releases/${rid}/insights?step=5m&to=${to}`)).body as Purged;
    const summed = (k: number) =>
      purged.series
        .flatMap((s) => s.points)
        .filter((p) => p.start === new Date(bucket(k)).toISOString())
        .reduce((n, p) => n + p.activeDevices, 0);
    expect(purged.adoption[0]!.curve[1]!.activeDevices).toBe(summed(1));
    expect(summed(1)).toBeGreaterThan(20);
  });

  it('refuses what it cannot answer, naming what it accepts', async () => {
    const get = (query: string) => ctx.admin.get(`/v1/releases/${id}/insights?${query}`);
    const segment = await get('segment=Enterprise');
    expect(segment.status).toBe(400);
    expect(segment.body.error.message).toMatch(/segments are default/);
    const cohort = await get('cohort=everyone');
    expect(cohort.status).toBe(400);
    expect(cohort.body.error.message).toMatch(/canary, control, rest/);
    const reversed = await get('from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z');
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.message).toMatch(/must not be after to/);
    const tooMany = await get('step=5m&from=2026-01-01T00:00:00Z&to=2026-01-31T00:00:00Z');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toMatch(/at most 2000 per series: use step=1h/);
    expect((await get('step=1d')).status).toBe(400);
    const features = Array.from({ length: 11 }, (_, i) => `feature=f${i}`).join('&');
    expect((await get(features)).body.error.message).toMatch(/at most 10 feature names/);
    // Once the app keeps as many names as it may, a name it does not keep counts under `other`: refused, naming the kept ones.
    const names = Array.from({ length: MAX_FEATURE_NAMES_PER_APP }, (_, i) => `kept-${i}`);
    const reported = await ctx.device.post(`/v1/apps/${APP}/events`, {
      deviceId: 'feature-reporter',
      platform: 'ios',
      nativeVersion: '3.0.0',
      events: names.map((feature) => ({ type: 'feature_used', at: new Date().toISOString(), bundleVersion: 'builtin', feature })),
    });
    expect(reported.status).toBe(202);
    const unkept = await get('feature=never-reported&feature=search');
    expect(unkept.status).toBe(400);
    expect(unkept.body.error.message).toMatch(/keeps 50 other feature names, so uses of never-reported count under other/);
    expect(unkept.body.error.details.problems[0].message).toMatch(/^one of search, kept-0, /);
    expect((await get('feature=search&feature=other')).status).toBe(200);
    expect((await ctx.admin.get('/v1/releases/no-such-release/insights')).status).toBe(404);
  });

  it('shows a viewer the releases of its apps only', async () => {
    const own = await ctx.admin.post('/v1/api-keys', { name: 'insight viewer', role: 'viewer', appIds: [APP] });
    const other = await ctx.admin.post('/v1/api-keys', { name: 'other viewer', role: 'viewer', appIds: ['com.example.elsewhere'] });
    expect((await createHttp(ctx.stack.baseUrl, own.body.key).get(`/v1/releases/${id}/insights`)).status).toBe(200);
    expect((await createHttp(ctx.stack.baseUrl, other.body.key).get(`/v1/releases/${id}/insights`)).status).toBe(404);
  });
});
