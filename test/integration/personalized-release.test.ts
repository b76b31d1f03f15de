import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bundleBody, createAppWithBundles, startRelease } from '../support/fixtures';
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
});
