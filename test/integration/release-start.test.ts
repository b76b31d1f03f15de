import { describe, expect, it } from 'vitest';
import { until } from '../../scripts/support/until';
import { createAppWithBundles, devicesInBuckets, postTelemetry, startRelease } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

const quick = { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] };
const held = { stages: [{ exposureBps: 2000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] }, { exposureBps: 10_000, minSoakMs: 100, gates: [] }] };

describe('starting a release', () => {
  const ctx = useTestStack();

  it('warns, with the numbers, when the plan is too small for the fleet the channel has', async () => {
    const appId = 'com.example.start.warnings';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '1.1.0']);
    const empty = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: quick });
    expect(empty.status).toBe(201);
    expect(empty.body.warnings).toEqual([expect.stringMatching(/no device of channel production was seen in the last 24 h/)]);
    await waitForServed(ctx.stack, empty.body.id, (r) => r.status === 'completed');

    // 300 devices report; a first stage of 20 % reaches about 60 of them.
    const fleet = devicesInBuckets('any', 0, 10_000, 300, 'start-warn');
    await postTelemetry(ctx.device, appId, fleet.map((deviceId) => ({ deviceId, events: [{ type: 'session_start', bundleVersion: '1.0.0' }] })));
    await until('the 300 device profiles to be written', async () => {
      const { rows } = await ctx.stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE app_id = $1', [appId]);
      return rows[0]!.n >= 300 ? true : undefined;
    });
    const small = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.1.0', plan: held });
    expect(small.status).toBe(201);
    expect(small.body.warnings).toEqual([expect.stringMatching(/stage stage 1 exposes 20 %: about 60 of the 300 devices active on production.*start at 33\.34 % or more/)]);
    await ctx.admin.post(`/v1/releases/${small.body.id}/abort`, { reason: 'test done' });
  });

  it('asks for force before releasing a version that was rolled back, quoting why it was', async () => {
    const appId = 'com.example.start.force';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const first = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: held });
    await waitForServed(ctx.stack, first, (r) => r.status === 'running');
    expect((await ctx.admin.post(`/v1/releases/${first}/rollback`, { reason: 'checkout crashes on Android 14' })).status).toBe(200);

    const again = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: held });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'version_rolled_back', details: { releaseId: first, reason: 'checkout crashes on Android 14' } });
    expect(again.body.error.message).toMatch(/1\.0\.0 was rolled back on production .*checkout crashes on Android 14.*"force": true \(CLI: --force\)/);

    const forced = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: held, force: true });
    expect(forced.status).toBe(201);
    await ctx.admin.post(`/v1/releases/${forced.body.id}/abort`, { reason: 'test done' });
  });

  it('answers a command for a finished release with what can still be done', async () => {
    const appId = 'com.example.start.finished';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '1.1.0']);
    const base = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: quick });
    await waitForServed(ctx.stack, base, (r) => r.status === 'completed');
    const next = await startRelease(ctx.admin, appId, { version: '1.1.0', plan: quick });
    await waitForServed(ctx.stack, next, (r) => r.status === 'completed');

    // A rollback would revert it (see revert-release.test.ts); every other command is refused.
    const refused = await ctx.admin.post(`/v1/releases/${next}/pause`, { reason: 'too late' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'release_finished', details: { status: 'completed' } });
    expect(refused.body.error.message).toMatch(
      new RegExp(`is completed and can no longer change; to send its devices back to 1\\.0\\.0, roll it back \\(POST /v1/releases/${next}/rollback\\) while it is the channel's latest release`),
    );
  });
});
