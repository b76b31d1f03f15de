import { describe, expect, it } from 'vitest';
import { createHttp } from '../support/http';
import { createAppWithBundles, deviceInBuckets, bucketSaltOf } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

describe('thin path: app → bundle → release workflow → snapshot → device check', () => {
  const ctx = useTestStack();

  it('answers devices by sticky bucket and follows the workflow from stage to stage', async () => {
    const appId = 'com.example.thinpath';
    await createAppWithBundles(ctx.admin, appId, ['1.1.0']);

    const started = await ctx.admin.post(`/v1/apps/${appId}/releases`, {
      version: '1.1.0',
      plan: {
        stages: [
          { exposureBps: 1000, minSoakMs: 6000, checkIntervalMs: 500, gates: [] },
          { exposureBps: 5000, minSoakMs: 1500, checkIntervalMs: 500, gates: [] },
          { exposureBps: 10_000, minSoakMs: 500, checkIntervalMs: 250, gates: [] },
        ],
      },
    });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ appId, version: '1.1.0', channel: 'production', status: 'pending' });
    const releaseId: string = started.body.id;
    expect(started.body.workflowId).toBe(`release-${releaseId}`);

    const salt = await bucketSaltOf(ctx.stack, releaseId);
    const inside = deviceInBuckets(salt, 0, 1000);
    const between = deviceInBuckets(salt, 1000, 5000);
    const outside = deviceInBuckets(salt, 5000, 10_000);
    const check = (deviceId: string) =>
      ctx.device.post(`/v1/apps/${appId}/check`, { deviceId, platform: 'ios', nativeVersion: '3.2.0', bundleVersion: 'builtin' });

    const first = await waitForServed(ctx.stack, releaseId, (r) => r.stageIndex === 0 && r.status === 'running');
    expect(first.exposure).toEqual({ default: 1000 });
    const insideAnswer = await check(inside);
    expect(insideAnswer.status).toBe(200);
    expect(insideAnswer.body).toEqual({
      action: 'update',
      releaseId,
      bundle: { version: '1.1.0', url: 'https://cdn.example.com/bundles/1.1.0.zip', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: 1029 },
    });
    expect((await check(between)).body).toEqual({ action: 'none' });
    expect((await check(outside)).body).toEqual({ action: 'none' });
    expect(ctx.stack.api.deps.snapshot.release(releaseId)?.stageIndex).toBe(0);

    const live = await ctx.admin.get(`/v1/releases/${releaseId}`);
    expect(live.body).toMatchObject({ id: releaseId, status: 'running', stageIndex: 0, exposure: { default: 1000 }, live: true });

    await waitForServed(ctx.stack, releaseId, (r) => r.stageIndex === 1);
    expect((await check(inside)).body.action).toBe('update');
    expect((await check(between)).body).toMatchObject({ action: 'update', bundle: { version: '1.1.0' } });
    expect((await check(outside)).body).toEqual({ action: 'none' });

    await waitForServed(ctx.stack, releaseId, (r) => r.status === 'completed');
    expect((await check(outside)).body).toMatchObject({ action: 'update', bundle: { version: '1.1.0' } });
    const upToDate = await ctx.device.post(`/v1/apps/${appId}/check`, {
      deviceId: outside,
      platform: 'android',
      nativeVersion: '3.2.0',
      bundleVersion: '1.1.0',
    });
    expect(upToDate.body).toEqual({ action: 'none' });

    const done = await ctx.admin.get(`/v1/releases/${releaseId}`);
    expect(done.body).toMatchObject({ status: 'completed', exposure: { default: 10_000 } });
  });

  it('refuses admin calls without a valid key, and device checks for unknown apps', async () => {
    const anonymous = createHttp(ctx.stack.baseUrl);
    expect((await anonymous.post('/v1/apps', { id: 'com.example.nokey', name: 'x' })).status).toBe(401);
    const wrong = createHttp(ctx.stack.baseUrl, 'not-a-real-key-at-all-0000');
    const refused = await wrong.get('/v1/apps');
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('unauthorized');

    const unknown = await ctx.device.post('/v1/apps/com.example.unknown/check', {
      deviceId: 'd1',
      platform: 'ios',
      nativeVersion: '1.0.0',
      bundleVersion: 'builtin',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });
});
