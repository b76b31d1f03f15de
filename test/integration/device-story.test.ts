import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { bucketOf } from '../../domain/bucketing';
import { createAppWithBundles, startRelease } from '../support/fixtures';
import { createHttp } from '../support/http';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

// Holds its one stage until a human acts: the device's story is read against a stable exposure.
const held = {
  stages: [
    { segments: ['modern'], exposureBps: 5000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
    { segments: ['testers', 'modern', 'default'], exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] },
  ],
};
const patience = { timeout: 15_000, interval: 50 };

describe('a device story and adoption per channel', () => {
  const ctx = useTestStack();

  it('explains the answer: the override that chose the channel, the rule that matched, bucket and cohort, and the answers every protocol gives', async () => {
    const appId = 'com.example.story';
    await createAppWithBundles(ctx.admin, appId, ['2.0.0']);
    const beta = await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'beta' });
    expect(beta.status).toBe(201);
    for (const segment of [
      { key: 'testers', priority: 5, rule: { attribute: 'attributes.tester', op: 'is_true' } },
      { key: 'modern', priority: 10, rule: { attribute: 'nativeVersion', op: 'semver_gte', value: '3.0.0' } },
    ]) {
      expect((await ctx.admin.post(`/v1/apps/${appId}/segments`, segment)).status).toBe(201);
    }
    const releaseId = await startRelease(ctx.admin, appId, { version: '2.0.0', channel: 'beta', plan: held });
    const served = await waitForServed(ctx.stack, releaseId, (r) => r.status === 'running' && r.exposure.modern === 5000);
    // Capgo wants a UUID; one in the canary half of the buckets.
    let deviceId = randomUUID();
    while (bucketOf(served.bucketSalt, deviceId) >= 5000) deviceId = randomUUID();
    expect((await ctx.admin.put(`/v1/apps/${appId}/devices/${deviceId}/channel`, { channel: 'beta' })).status).toBe(200);

    const unseen = await ctx.admin.get(`/v1/apps/${appId}/devices/${deviceId}`);
    expect(unseen.status).toBe(404);
    expect(unseen.body.error.message).toMatch(/has not checked in/);

    const context = { deviceId, platform: 'android', nativeVersion: '3.1.0', attributes: { tester: false } };
    const check = { ...context, bundleVersion: 'builtin' };
    // The override reaches the snapshot through NOTIFY; checks before it would be served from production.
    await vi.waitFor(() => expect(ctx.stack.api.deps.snapshot.app(appId)?.overrides.get(deviceId)).toEqual({ channel: 'beta', source: 'admin' }), patience);
    const native = (await ctx.device.post(`/v1/apps/${appId}/check`, check)).body;
    expect(native).toMatchObject({ action: 'update', releaseId });
    const capgo = await ctx.device.post('/updates', {
      platform: 'android',
      device_id: deviceId,
      app_id: appId,
      version_build: '3.1.0',
      version_name: 'builtin',
      plugin_version: '8.51.23',
      is_emulator: false,
      is_prod: true,
    });
    const deploymentKey = beta.body.deploymentKey as string;
    const codepush = await ctx.device.get(`/v0.1/public/codepush/update_check?deployment_key=${deploymentKey}&app_version=3.1.0&client_unique_id=${deviceId}`);
    expect((await ctx.device.post(`/v1/apps/${appId}/events`, { ...context, events: [{ type: 'crash', at: new Date().toISOString(), bundleVersion: 'builtin' }] })).status).toBe(202);

    const story = await vi.waitFor(async () => {
      const res = await ctx.admin.get(`/v1/apps/${appId}/devices/${deviceId}`);
      expect(res.status).toBe(200);
      return res.body as Record<string, any>;
    }, patience);
    expect(story.profile).toMatchObject({ platform: 'android', nativeVersion: '3.1.0', bundleVersion: 'builtin', channel: 'beta', engagement: { sessionsLast7d: 0, daysSinceFirstSeen: 0 } });
    expect(story.assumptions.requestedChannel).toBe('beta');
    expect(story.channel).toMatchObject({ name: 'beta', step: 'admin_override' });
    expect(story.segment).toMatchObject({ key: 'modern', matchedRule: { key: 'modern', priority: 10, rule: { attribute: 'nativeVersion', op: 'semver_gte', value: '3.0.0' } } });
    expect(story.release).toMatchObject({
      releaseId,
      bucket: bucketOf(served.bucketSalt, deviceId),
      exposureBps: 5000,
      controlSlice: { fromBps: 5000, toBps: 10_000 },
      cohort: 'canary',
      target: { version: '2.0.0', compatible: true, needsNativeUpdate: false },
      baseline: null,
    });
    // Expo: which part expo-updates would get (the manifest is the bundle's, when it has one for the platform).
    expect(story.answers).toEqual({ native, capgo: capgo.body, codepush: codepush.body, expo: { kind: 'manifest', version: '2.0.0', reissued: false } });
    expect(story.events).toEqual([expect.objectContaining({ type: 'crash', bundleVersion: 'builtin', releaseId, segment: 'modern' })]);
  });

  it('counts the bundle versions of the devices active in the window, per channel', async () => {
    const appId = 'com.example.adoption';
    await createAppWithBundles(ctx.admin, appId, []);
    expect((await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'beta', allowSelfAssign: true })).status).toBe(201);
    const fleet = [
      ...['builtin', 'builtin', 'builtin', '1.0.0', '1.0.0', '2.0.0'].map((bundleVersion) => ({ bundleVersion })),
      { bundleVersion: '2.0.0', channel: 'beta' },
      { bundleVersion: '2.1.0', channel: 'beta' },
    ];
    await vi.waitFor(() => expect(ctx.stack.api.deps.snapshot.app(appId)?.channels.has('beta')).toBe(true), patience);
    for (const [i, device] of fleet.entries()) {
      const res = await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: `fleet-${i}`, platform: 'ios', nativeVersion: '3.0.0', ...device });
      expect(res.status).toBe(200);
    }
    // A device last seen two days ago: outside the default window, inside a 72-hour one.
    await ctx.stack.db.pool.query(
      `INSERT INTO devices (app_id, device_id, platform, native_version, bundle_version, channel, first_seen, last_seen)
       VALUES ($1, 'stale', 'ios', '3.0.0', '0.9.0', 'production', now() - interval '48 hours', now() - interval '48 hours')`,
      [appId],
    );

    const production = await vi.waitFor(async () => {
      const res = await ctx.admin.get(`/v1/apps/${appId}/adoption?channel=production`);
      expect(res.body.activeDevices).toBe(6);
      return res.body as Record<string, any>;
    }, patience);
    expect(production).toMatchObject({ appId, channel: 'production', windowHours: 24 });
    expect(production.versions).toEqual([
      { bundleVersion: 'builtin', devices: 3, share: 0.5 },
      { bundleVersion: '1.0.0', devices: 2, share: 0.3333 },
      { bundleVersion: '2.0.0', devices: 1, share: 0.1667 },
    ]);
    expect((await ctx.admin.get(`/v1/apps/${appId}/adoption?channel=production&window=72h`)).body.versions).toContainEqual({ bundleVersion: '0.9.0', devices: 1, share: 0.1429 });
    const onBeta = await vi.waitFor(async () => {
      const res = await ctx.admin.get(`/v1/apps/${appId}/adoption?channel=beta&window=1`);
      expect(res.body.activeDevices).toBe(2);
      return res.body as Record<string, any>;
    }, patience);
    expect(onBeta.versions).toEqual([
      { bundleVersion: '2.0.0', devices: 1, share: 0.5 },
      { bundleVersion: '2.1.0', devices: 1, share: 0.5 },
    ]);
    expect((await ctx.admin.get(`/v1/apps/${appId}/adoption`)).body).toMatchObject({ channel: null, activeDevices: 8 });
  });

  it('refuses bad input with what to fix, and keeps other apps out of reach', async () => {
    const appId = 'com.example.adoption';
    const unknownChannel = await ctx.admin.get(`/v1/apps/${appId}/adoption?channel=nightly`);
    expect(unknownChannel.status).toBe(400);
    expect(unknownChannel.body.error.message).toMatch(/no channel nightly; its channels: beta, production|its channels: production, beta/);
    for (const window of ['0', '721', 'abc', '1.5h']) {
      const res = await ctx.admin.get(`/v1/apps/${appId}/adoption?window=${window}`);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/from 1 to 720/);
    }
    const badId = await ctx.admin.get(`/v1/apps/${appId}/devices/${encodeURIComponent('two words')}`);
    expect(badId.status).toBe(400);
    expect(badId.body.error.message).toMatch(/device id/);

    const created = await ctx.admin.post('/v1/api-keys', { name: 'story-viewer', role: 'viewer', appIds: ['com.example.story'] });
    expect(created.status).toBe(201);
    const viewer = createHttp(ctx.stack.baseUrl, created.body.key as string);
    expect((await viewer.get(`/v1/apps/${appId}/adoption`)).status).toBe(404);
    expect((await viewer.get(`/v1/apps/${appId}/devices/fleet-0`)).status).toBe(404);
    expect((await viewer.get('/v1/apps/com.example.story/adoption')).status).toBe(200);
  });
});
