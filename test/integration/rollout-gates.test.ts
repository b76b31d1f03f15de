import { describe, expect, it } from 'vitest';
import { createAppWithBundles, devicesInBuckets, postTelemetry, startRelease, bucketSaltOf, establishDevices } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';
import { waitFor } from '../../scripts/support/until';

/** What these tests read of `GET /v1/releases/:id`. */
interface ReleaseDetails {
  status: string;
  reason: string | null;
  gates: { evidence: { windowEnd: number | null } } | null;
  history: Array<{ event: string }>;
}

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
    const salt = await bucketSaltOf(ctx.stack, id);
    const canary = devicesInBuckets(salt, 0, 2000, 120, 'c');
    const control = devicesInBuckets(salt, 2000, 4000, 120, 'b');
    // Devices the app knew before the release: the trust model counts their telemetry at once.
    await establishDevices(ctx.stack, appId, [...canary, ...control]);

    // Canary devices installed the new bundle and a third of them crash on it; control devices are fine.
    // Interleaved, as a fleet reports: a burst takes several counting windows to be written, and a gate
    // check may read any prefix of it; a prefix of canary devices alone is a sample-ratio mismatch,
    // which pauses the release instead of rolling it back.
    await postTelemetry(
      ctx.device,
      appId,
      canary.flatMap((deviceId, i) => [
        {
          deviceId,
          events: [
            { type: 'install_ok', bundleVersion: '1.1.0' },
            { type: 'session_start', bundleVersion: '1.1.0' },
            ...(i % 3 === 0 ? [{ type: 'crash', bundleVersion: '1.1.0' }] : []),
          ],
        },
        { deviceId: control[i]!, events: [{ type: 'session_start', bundleVersion: '1.0.0' }] },
      ]),
    );

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
    const salt = await bucketSaltOf(ctx.stack, id);
    const canary = devicesInBuckets(salt, 0, 1000, 50, 'g');
    await establishDevices(ctx.stack, appId, canary);
    // A live fleet keeps reporting; a stage without fresh canary data would rightly pause. It reports
    // once per gate check: each round waits until a check has counted the round before.
    let details = (await ctx.admin.get(`/v1/releases/${id}`)).body as ReleaseDetails;
    while (details.status === 'running' || details.status === 'pending') {
      await postTelemetry(
        ctx.device,
        appId,
        canary.map((deviceId) => ({ deviceId, events: [{ type: 'install_ok', bundleVersion: '2.0.0' }, { type: 'session_start', bundleVersion: '2.0.0' }] })),
      );
      const acknowledged = Date.now();
      details = await waitFor(
        `a gate check of release ${id} counting telemetry acknowledged by ${acknowledged}, or the release to settle`,
        async () => (await ctx.admin.get(`/v1/releases/${id}`)).body as ReleaseDetails,
        (r) => !['running', 'pending'].includes(r.status) || (r.gates?.evidence.windowEnd ?? -Infinity) > acknowledged,
        { everyMs: 50 },
      );
    }
    const done = await waitForServed(ctx.stack, id, (r) => r.status === details.status);
    expect(done.status, details.reason ?? undefined).toBe('completed');
    expect(done.exposure).toEqual({ default: 10_000 });
    expect(details.history.filter((t) => t.event === 'stage_started')).toHaveLength(3);
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
