import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bucketSaltOf, bundleBody, createAppWithBundles, devicesInBuckets, establishDevices, startRelease } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { waitFor } from '../../scripts/support/until';
import { useTestStack } from '../support/test-stack';

// A segment is matched by the native `tier` attribute or Capgo's custom_id (attributes.customId).
const tierRule = (tier: string) => ({
  any: [
    { attribute: 'attributes.tier', op: 'eq', value: tier },
    { attribute: 'attributes.customId', op: 'eq', value: tier },
  ],
});

// Each segment's stage bakes briefly and advances on its own; the last one holds until aborted.
const plan = {
  stages: [
    { segments: ['power'], exposureBps: 10_000, minSoakMs: 800, checkIntervalMs: 200, gates: [] },
    { segments: ['new'], exposureBps: 10_000, minSoakMs: 800, checkIntervalMs: 200, gates: [] },
    { segments: ['default'], exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
  ],
};

describe('personalized releases', () => {
  const ctx = useTestStack();
  const appId = 'com.example.personalized';
  const native = async (deviceId: string, tier: string | null, bundleVersion = 'builtin') =>
    (
      await ctx.device.post(`/v1/apps/${appId}/check`, {
        deviceId,
        platform: 'android',
        nativeVersion: '3.0.0',
        bundleVersion,
        ...(tier ? { attributes: { tier } } : {}),
      })
    ).body as { action: string; bundle?: { version: string } | null };
  const capgo = async (tier: string) =>
    (
      await ctx.device.post('/updates', {
        platform: 'android',
        device_id: randomUUID(),
        app_id: appId,
        custom_id: tier,
        version_build: '3.0.0',
        version_code: '30000',
        version_os: '13',
        version_name: 'builtin',
        plugin_version: '8.51.23',
        is_emulator: false,
        is_prod: true,
        defaultChannel: 'production',
      })
    ).body as { version?: string; error?: string };

  it('validates the mapping at the start, serves each segment its bundle per stage, attributes telemetry and withdraws every bundle', async () => {
    await createAppWithBundles(ctx.admin, appId, ['2.0.0', '2.1.0', '2.2.0']);
    expect((await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody('9.0.0', { platforms: ['web'] }))).status).toBe(201);
    for (const [key, priority] of [['power', 10], ['new', 20]] as const) {
      expect((await ctx.admin.post(`/v1/apps/${appId}/segments`, { key, rule: tierRule(key), priority })).status).toBe(201);
    }

    // Refused at the edge, saying what to fix, and nothing written.
    const refused = async (segmentBundles: Record<string, string>) => {
      const res = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '2.0.0', plan, segmentBundles });
      expect(res.status).toBe(400);
      return (res.body as { error: { code: string; message: string } }).error.message;
    };
    expect(await refused({ ghost: '2.1.0' })).toContain('the app has no segment ghost');
    expect(await refused({ power: '7.7.7' })).toContain('the app has no bundle 7.7.7; upload it first');
    expect(await refused({ power: '9.0.0' })).toContain("9.0.0 runs on web but the release's bundle 2.0.0 on ios, android");
    expect(await refused({ power: '2.0.0' })).toContain("2.0.0 is the release's main bundle already");
    expect((await ctx.admin.get(`/v1/apps/${appId}/releases`)).body.releases).toEqual([]);

    const id = await startRelease(ctx.admin, appId, { version: '2.0.0', plan, segmentBundles: { power: '2.1.0', new: '2.2.0' } });
    expect((await ctx.admin.get(`/v1/releases/${id}`)).body.segmentBundles).toEqual({ power: '2.1.0', new: '2.2.0' });

    // Stage 1: only power users, with their own bundle, on both protocols.
    await waitForServed(ctx.stack, id, (r) => r.exposure.power === 10_000);
    expect(await native('power-1', 'power')).toMatchObject({ action: 'update', bundle: { version: '2.1.0' } });
    expect(await capgo('power')).toMatchObject({ version: '2.1.0' });
    expect((await native('new-1', 'new')).action).toBe('none');
    expect((await native('plain-1', null)).action).toBe('none');
    expect(await native('power-1', 'power', '2.1.0')).toMatchObject({ action: 'none' });

    // Stage 2 opens by itself for new users, with theirs.
    await waitForServed(ctx.stack, id, (r) => r.exposure.new === 10_000);
    expect(await native('new-1', 'new')).toMatchObject({ action: 'update', bundle: { version: '2.2.0' } });
    expect(await capgo('new')).toMatchObject({ version: '2.2.0' });
    expect((await native('plain-1', null)).action).toBe('none');

    // Stage 3: everyone else gets the main bundle.
    await waitForServed(ctx.stack, id, (r) => r.exposure.default === 10_000);
    expect(await native('plain-1', null)).toMatchObject({ action: 'update', bundle: { version: '2.0.0' } });
    expect(await capgo('someone')).toMatchObject({ version: '2.0.0' });

    // A power user running its bundle counts for the release; on the main bundle it would not.
    const at = new Date().toISOString();
    const events = await ctx.device.post(`/v1/apps/${appId}/events`, {
      deviceId: 'power-1',
      platform: 'android',
      nativeVersion: '3.0.0',
      attributes: { tier: 'power' },
      events: [{ type: 'session_start', at, bundleVersion: '2.1.0' }],
    });
    expect(events.status).toBe(202);
    const attributed = await ctx.stack.db.pool.query<{ release_id: string; cohort: string; segment: string }>(
      'SELECT release_id, cohort, segment FROM device_events WHERE app_id = $1 AND device_id = $2',
      [appId, 'power-1'],
    );
    expect(attributed.rows).toEqual([{ release_id: id, cohort: 'canary', segment: 'power' }]);

    // The device story and the insights say which bundle the segment maps to.
    const story = await waitFor(
      "power-1's profile",
      () => ctx.admin.get(`/v1/apps/${appId}/devices/power-1`),
      (res) => res.status === 200,
    );
    expect(story.body.release).toMatchObject({ segmentBundle: { segment: 'power', version: '2.1.0' }, target: { version: '2.1.0', compatible: true } });
    expect((await ctx.admin.get(`/v1/releases/${id}/insights`)).body.segmentBundles).toEqual({ power: '2.1.0', new: '2.2.0' });

    // Withdrawn: devices on any of the release's bundles are sent back.
    expect((await ctx.admin.post(`/v1/releases/${id}/rollback`, { reason: 'test withdraws every bundle' })).status).toBe(200);
    await waitForServed(ctx.stack, id, (r) => r.status === 'rolled_back');
    for (const [device, tier, version] of [['power-1', 'power', '2.1.0'], ['new-1', 'new', '2.2.0'], ['plain-1', null, '2.0.0']] as const) {
      expect(await native(device, tier, version)).toMatchObject({ action: 'rollback', bundle: null });
    }
  });

  it("withdraws only the mapping whose segment's gate fails: its devices go back, the other segments go on", async () => {
    const gated = 'com.example.personalized.gated';
    await createAppWithBundles(ctx.admin, gated, ['1.0.0', '2.0.0', '2.1.0']);
    expect((await ctx.admin.post(`/v1/apps/${gated}/segments`, { key: 'power', rule: tierRule('power'), priority: 10 })).status).toBe(201);
    const base = await startRelease(ctx.admin, gated, { version: '1.0.0', plan: { stages: [{ segments: ['power', 'default'], exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] } });
    await waitForServed(ctx.stack, base, (r) => r.status === 'completed');

    const id = await startRelease(ctx.admin, gated, {
      version: '2.0.0',
      segmentBundles: { power: '2.1.0' },
      plan: {
        stages: [
          { segments: ['power', 'default'], exposureBps: 2000, minSoakMs: 600_000, checkIntervalMs: 300, gates: [{ kind: 'ratio', metric: 'crash' }] },
          { segments: ['power', 'default'], exposureBps: 10_000, minSoakMs: 1000, checkIntervalMs: 300 },
        ],
      },
    });
    await waitForServed(ctx.stack, id, (r) => r.exposure.power === 2000 && r.exposure.default === 2000);
    const salt = await bucketSaltOf(ctx.stack, id);
    const powerCanary = devicesInBuckets(salt, 0, 2000, 120, 'pc');
    const powerControl = devicesInBuckets(salt, 2000, 4000, 120, 'pb');
    const plainCanary = devicesInBuckets(salt, 0, 2000, 60, 'dc');
    await establishDevices(ctx.stack, gated, [...powerCanary, ...powerControl, ...plainCanary]);

    // Power users crash on their own bundle a third of the time; everyone else is fine.
    const at = new Date().toISOString();
    const report = (deviceId: string, tier: string | null, events: Array<{ type: string; bundleVersion: string }>) =>
      ctx.device.post(`/v1/apps/${gated}/events`, {
        deviceId,
        platform: 'android',
        nativeVersion: '3.0.0',
        ...(tier ? { attributes: { tier } } : {}),
        events: events.map((e) => ({ at, ...e })),
      });
    const answers = await Promise.all([
      ...powerCanary.map((d, i) =>
        report(d, 'power', [{ type: 'install_ok', bundleVersion: '2.1.0' }, { type: 'session_start', bundleVersion: '2.1.0' }, ...(i % 3 === 0 ? [{ type: 'crash', bundleVersion: '2.1.0' }] : [])]),
      ),
      ...powerControl.map((d) => report(d, 'power', [{ type: 'session_start', bundleVersion: '1.0.0' }])),
      ...plainCanary.map((d) => report(d, null, [{ type: 'install_ok', bundleVersion: '2.0.0' }, { type: 'session_start', bundleVersion: '2.0.0' }])),
    ]);
    expect(answers.every((a) => a.status === 202)).toBe(true);

    const served = await waitForServed(ctx.stack, id, (r) => (r.withdrawnSegments ?? []).includes('power'), 90_000);
    expect(served).toMatchObject({ status: 'running', exposure: { power: 0, default: 2000 } });
    const details = (await ctx.admin.get(`/v1/releases/${id}`)).body as { status: string; withdrawnSegments: string[]; history: Array<{ event: string; actor: string; reason: string }> };
    expect(details).toMatchObject({ status: 'running', withdrawnSegments: ['power'] });
    expect(details.history.at(-1)).toMatchObject({ event: 'mapping_withdrawn', actor: 'rampart:gate', reason: expect.stringMatching(/own bundle of power withdrawn: .*crash/) });

    // Power users on the withdrawn bundle go back to the baseline; the main bundle's canary keeps 2.0.0.
    const check = async (deviceId: string, tier: string | null, bundleVersion: string) =>
      (await ctx.device.post(`/v1/apps/${gated}/check`, { deviceId, platform: 'android', nativeVersion: '3.0.0', bundleVersion, ...(tier ? { attributes: { tier } } : {}) }))
        .body as { action: string };
    expect(await check(powerCanary[0]!, 'power', '2.1.0')).toMatchObject({ action: 'rollback', bundle: { version: '1.0.0' } });
    expect(await check(plainCanary[0]!, null, '2.0.0')).toMatchObject({ action: 'none' });
    expect(await check(plainCanary[1]!, null, '1.0.0')).toMatchObject({ action: 'update', bundle: { version: '2.0.0' } });

    // The release goes on without the mapping: the next stage leaves power at zero.
    expect((await ctx.admin.post(`/v1/releases/${id}/promote`, { reason: 'main bundle is healthy' })).status).toBe(200);
    const next = await waitForServed(ctx.stack, id, (r) => r.exposure.default === 10_000);
    expect(next.exposure.power).toBe(0);
  });
});
