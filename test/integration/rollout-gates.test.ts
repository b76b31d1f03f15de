import { describe, expect, it } from 'vitest';
import { createAppWithBundles, devicesInBuckets, postTelemetry, startRelease } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

describe('gates in the rollout workflow', () => {
  const ctx = useTestStack();

  it('rolls back on its own when canary devices crash far more than control devices, and devices are sent back', async () => {
    const appId = 'com.example.badrelease';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '1.1.0']);
    const base = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] } });
    await waitForServed(ctx.stack, base, (r) => r.status === 'completed');

    const id = await startRelease(ctx.admin, appId, {
      version: '1.1.0',
      plan: {
        stages: [
          { exposureBps: 2000, minSoakMs: 600_000, checkIntervalMs: 300, gates: [{ kind: 'ratio', metric: 'crash' }] },
          { exposureBps: 10_000, minSoakMs: 1000, checkIntervalMs: 300 },
        ],
      },
    });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running' && r.exposure.default === 2000);
    const salt = (await ctx.admin.get(`/v1/releases/${id}`)).body.bucketSalt as string;
    const canary = devicesInBuckets(salt, 0, 2000, 120, 'c');
    const control = devicesInBuckets(salt, 2000, 4000, 120, 'b');

    // Canary devices installed the new bundle and a third of them crash on it; control devices are fine.
    await postTelemetry(ctx.device, appId, [
      ...canary.map((deviceId, i) => ({
        deviceId,
        events: [
          { type: 'install_ok', bundleVersion: '1.1.0' },
          { type: 'session_start', bundleVersion: '1.1.0' },
          ...(i % 3 === 0 ? [{ type: 'crash', bundleVersion: '1.1.0' }] : []),
        ],
      })),
      ...control.map((deviceId) => ({ deviceId, events: [{ type: 'session_start', bundleVersion: '1.0.0' }] })),
    ]);

    const rolledBack = await waitForServed(ctx.stack, id, (r) => r.status === 'rolled_back');
    expect(rolledBack.exposure).toEqual({ default: 0 });
    const details = await ctx.admin.get(`/v1/releases/${id}`);
    expect(details.body.history.at(-1)).toMatchObject({ event: 'rolled_back', actor: 'rampart:gate', reason: expect.stringMatching(/crash/) });
    expect(details.body.gates).toMatchObject({ verdict: 'rollback' });
    // The gate may decide on the first counting windows, before every posted event has been counted.
    const evidence = details.body.gates.evidence.ratio.find((r: { metric: string }) => r.metric === 'crash');
    expect(evidence).toMatchObject({ segment: 'default', controlEvents: 0 });
    expect(evidence.canaryEvents).toBeGreaterThanOrEqual(3);
    expect(evidence.canaryDevices).toBeLessThanOrEqual(120);
    expect(evidence.eValue).toBeGreaterThanOrEqual(evidence.rollbackThreshold);

    const answer = await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: canary[0], platform: 'android', nativeVersion: '2.0.0', bundleVersion: '1.1.0' });
    expect(answer.body).toMatchObject({ action: 'rollback', bundle: { version: '1.0.0' }, releaseId: id });
  });

  it('reaches 100 % when the release is healthy and the stage gates only watch tripwires', async () => {
    const appId = 'com.example.goodrelease';
    await createAppWithBundles(ctx.admin, appId, ['2.0.0']);
    const gates = [{ kind: 'tripwire', metric: 'boot_failed' }];
    const id = await startRelease(ctx.admin, appId, {
      version: '2.0.0',
      plan: {
        stages: [
          { exposureBps: 1000, minSoakMs: 1500, checkIntervalMs: 300, gates },
          { exposureBps: 5000, minSoakMs: 1500, checkIntervalMs: 300, gates },
          { exposureBps: 10_000, minSoakMs: 1000, checkIntervalMs: 300, gates },
        ],
      },
    });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    const salt = (await ctx.admin.get(`/v1/releases/${id}`)).body.bucketSalt as string;
    const canary = devicesInBuckets(salt, 0, 1000, 50, 'g');
    // A live fleet keeps reporting; a stage without fresh canary data would rightly pause.
    let reporting = true;
    const fleet = (async () => {
      while (reporting) {
        await postTelemetry(
          ctx.device,
          appId,
          canary.map((deviceId) => ({ deviceId, events: [{ type: 'install_ok', bundleVersion: '2.0.0' }, { type: 'session_start', bundleVersion: '2.0.0' }] })),
        );
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    const done = await waitForServed(ctx.stack, id, (r) => r.status === 'completed' || r.status === 'paused').finally(() => (reporting = false));
    await fleet;
    expect(done.status).toBe('completed');
    expect(done.exposure).toEqual({ default: 10_000 });
    const details = await ctx.admin.get(`/v1/releases/${id}`);
    expect(details.body.history.filter((t: { event: string }) => t.event === 'stage_started')).toHaveLength(3);
  });

  it('pauses a release whose stage has no data instead of promoting it blindly', async () => {
    const appId = 'com.example.nodata';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const id = await startRelease(ctx.admin, appId, {
      version: '1.0.0',
      plan: { stages: [{ exposureBps: 1000, minSoakMs: 600, maxSoakMs: 600_000, checkIntervalMs: 200 }, { exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100 }] },
    });
    const paused = await waitForServed(ctx.stack, id, (r) => r.status === 'paused');
    expect(paused.stageIndex).toBe(0);
    const details = await ctx.admin.get(`/v1/releases/${id}`);
    expect(details.body.history.at(-1)).toMatchObject({ event: 'paused', actor: 'rampart:gate' });
    expect(details.body.reason).toMatch(/data/i);
  });
});
