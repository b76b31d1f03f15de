import { describe, expect, it } from 'vitest';
import { createAppWithBundles, deviceInBuckets, startRelease, bucketSaltOf } from '../support/fixtures';
import { createHttp } from '../support/http';
import { waitForServed } from '../support/rollout-waits';
import { waitFor } from '../../scripts/support/until';
import { signalWorkflow, temporalCli } from '../support/temporal-cli';
import { useTestStack } from '../support/test-stack';

// Stages that never end on their own: every move in these tests is an on-call command.
const longPlan = {
  stages: [
    { exposureBps: 1000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
    { exposureBps: 5000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
    { exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
  ],
};

describe('on-call commands', () => {
  const ctx = useTestStack();

  const check = (appId: string, deviceId: string, bundleVersion = 'builtin', channel?: string) =>
    ctx.device.post(`/v1/apps/${appId}/check`, { deviceId, platform: 'android', nativeVersion: '2.0.0', bundleVersion, ...(channel ? { channel } : {}) });

  it('pause, resume, promote and promote-full through the API answer with the new state, and refuse what makes no sense', async () => {
    const appId = 'com.example.commands';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const id = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: longPlan });
    await waitForServed(ctx.stack, id, (r) => r.stageIndex === 0 && r.status === 'running');

    const paused = await ctx.admin.post(`/v1/releases/${id}/pause`, { reason: 'error spike in support tickets' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id, status: 'paused', stageIndex: 0, live: true });
    // What devices are served must follow: the canary keeps its exposure, frozen, not withdrawn.
    const served = await waitForServed(ctx.stack, id, (r) => r.status === 'paused');
    expect(served).toMatchObject({ status: 'paused', stageIndex: 0, exposure: { default: 1000 } });

    const again = await ctx.admin.post(`/v1/releases/${id}/pause`, { reason: 'twice' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'command_refused', message: expect.stringMatching(/already paused/) });

    const noReason = await ctx.admin.post(`/v1/releases/${id}/resume`, {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.details.problems[0].path).toBe('reason');

    const resumed = await ctx.admin.post(`/v1/releases/${id}/resume`, { reason: 'false alarm' });
    expect(resumed.body).toMatchObject({ status: 'running' });
    const resumeRunning = await ctx.admin.post(`/v1/releases/${id}/resume`, { reason: 'again' });
    expect(resumeRunning.status).toBe(409);
    expect(resumeRunning.body.error.message).toMatch(/only a paused release can be resumed/);

    const salt = await bucketSaltOf(ctx.stack, id);
    const between = deviceInBuckets(salt, 1000, 5000);
    expect((await check(appId, between)).body.action).toBe('none');
    const promoted = await ctx.admin.post(`/v1/releases/${id}/promote`, { reason: 'metrics look fine' });
    expect(promoted.body).toMatchObject({ status: 'running', stageIndex: 1 });
    await waitForServed(ctx.stack, id, (r) => r.exposure.default === 5000);
    expect((await check(appId, between)).body).toMatchObject({ action: 'update', bundle: { version: '1.0.0' } });

    const full = await ctx.admin.post(`/v1/releases/${id}/promote-full`, { reason: 'hotfix everyone needs' });
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({ status: 'completed', exposure: { default: 10_000 } });

    const afterEnd = await ctx.admin.post(`/v1/releases/${id}/pause`, { reason: 'too late' });
    expect(afterEnd.status).toBe(409);
    expect(afterEnd.body.error.code).toMatch(/command_refused|release_finished/);

    const details = await ctx.admin.get(`/v1/releases/${id}`);
    expect(details.body.history.map((t: { event: string }) => t.event)).toEqual([
      'started',
      'stage_started',
      'paused',
      'resumed',
      'promoted',
      'stage_started',
      'promoted_full',
      'completed',
    ]);
    const audit = await ctx.stack.db.pool.query<{ actor: string; action: string; reason: string }>(
      `SELECT actor, action, reason FROM audit_log WHERE target = $1 AND action LIKE 'release.%' ORDER BY id`,
      [`release:${id}`],
    );
    expect(audit.rows).toContainEqual({ actor: 'key:bootstrap-admin', action: 'release.paused', reason: 'error spike in support tickets' });
    expect(audit.rows).toContainEqual({ actor: 'key:bootstrap-admin', action: 'release.promoted_full', reason: 'hotfix everyone needs' });
  });

  it('takes the same commands as Signals from `temporal workflow signal`, and lists releases by search attribute', async () => {
    const appId = 'com.example.signals';
    await createAppWithBundles(ctx.admin, appId, ['3.0.0']);
    const id = await startRelease(ctx.admin, appId, { version: '3.0.0', plan: longPlan });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    const signal = (name: string, reason: string) => signalWorkflow(`release-${id}`, name, { actor: 'oncall:alice', reason });

    await signal('pause', 'paged at 3am');
    await waitForServed(ctx.stack, id, (r) => r.status === 'paused');

    // Visibility is eventually consistent: ask until the upserted status shows up.
    await waitFor(
      `release-${id} listed by AppId and ReleaseStatus='paused'`,
      () => temporalCli(['workflow', 'list', '--query', `AppId='${appId}' AND ReleaseStatus='paused'`, '--output', 'json']),
      (listed) => listed.includes(`release-${id}`),
      { timeoutMs: 15_000, everyMs: 200 },
    );

    await signal('resume', 'dashboards are green again');
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    await signal('resume', 'resume while running is refused and ignored');
    await signal('rollback', 'customer reports');
    const rolledBack = await waitForServed(ctx.stack, id, (r) => r.status === 'rolled_back');
    expect(rolledBack.exposure).toEqual({ default: 0 });

    const salt = await bucketSaltOf(ctx.stack, id);
    const canary = deviceInBuckets(salt, 0, 1000);
    expect((await check(appId, canary, '3.0.0')).body).toEqual({ action: 'rollback', bundle: null, releaseId: id });

    const details = await ctx.admin.get(`/v1/releases/${id}`);
    expect(details.body.history.filter((t: { actor: string }) => t.actor === 'oncall:alice').map((t: { event: string }) => t.event)).toEqual([
      'paused',
      'resumed',
      'rolled_back',
    ]);
  });

  it('allows one active release per app and channel; supersede aborts the active one first', async () => {
    const appId = 'com.example.supersede';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '1.0.1']);
    const first = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: longPlan });
    await waitForServed(ctx.stack, first, (r) => r.status === 'running');

    const refused = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.0.1', plan: longPlan });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'release_active', details: { activeReleaseId: first, activeVersion: '1.0.0' } });

    const unknownChannel = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.0.1', channel: 'beta', plan: longPlan });
    expect(unknownChannel.status).toBe(400);
    expect(unknownChannel.body.error.message).toMatch(/has no channel beta; create it first/);
    expect((await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'beta', allowSelfAssign: true })).status).toBe(201);
    const otherChannel = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.0.1', channel: 'beta', plan: longPlan });
    expect(otherChannel.status).toBe(201);

    const second = await startRelease(ctx.admin, appId, { version: '1.0.1', plan: longPlan, supersede: true });
    const old = await ctx.admin.get(`/v1/releases/${first}`);
    expect(old.body).toMatchObject({ status: 'aborted' });
    expect(old.body.history.at(-1)).toMatchObject({ event: 'aborted', reason: 'superseded by a new release of 1.0.1' });
    await waitForServed(ctx.stack, second, (r) => r.status === 'running');

    const salt = await bucketSaltOf(ctx.stack, second);
    const outside = deviceInBuckets(salt, 1000, 10_000);
    // A device still on the aborted bundle goes back to the binary (no completed release yet).
    expect((await check(appId, outside, '1.0.0')).body).toMatchObject({ action: 'rollback', bundle: null });
  });

  it('a start that is refused does not supersede the active release', async () => {
    const appId = 'com.example.supersede-refused';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '2.0.0']);
    const base = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] } });
    await waitForServed(ctx.stack, base, (r) => r.status === 'completed');
    const active = await startRelease(ctx.admin, appId, { version: '2.0.0', plan: longPlan });
    await waitForServed(ctx.stack, active, (r) => r.status === 'running');

    const refused = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: longPlan, supersede: true });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'already_released' });
    expect((await ctx.admin.get(`/v1/releases/${active}`)).body).toMatchObject({ status: 'running' });
  });

  it('abort withdraws the release and tells devices to go back to the baseline', async () => {
    const appId = 'com.example.abort';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '2.0.0']);
    const base = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] } });
    await waitForServed(ctx.stack, base, (r) => r.status === 'completed');

    const id = await startRelease(ctx.admin, appId, { version: '2.0.0', plan: longPlan });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    const aborted = await ctx.admin.post(`/v1/releases/${id}/abort`, { reason: 'wrong build uploaded' });
    expect(aborted.body).toMatchObject({ status: 'aborted', exposure: { default: 0 } });
    await waitForServed(ctx.stack, id, (r) => r.status === 'aborted');

    const salt = await bucketSaltOf(ctx.stack, id);
    const canary = deviceInBuckets(salt, 0, 1000);
    expect((await check(appId, canary, '2.0.0')).body).toMatchObject({ action: 'rollback', bundle: { version: '1.0.0' } });
    expect((await check(appId, canary, '1.0.0')).body).toEqual({ action: 'none' });
  });

  it('keeps keys to their role: a viewer may look but not command', async () => {
    const created = await ctx.admin.post('/v1/api-keys', { name: 'dashboard', role: 'viewer' });
    expect(created.status).toBe(201);
    const viewer = createHttp(ctx.stack.baseUrl, created.body.key);
    const appId = 'com.example.roles';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const id = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: longPlan });
    expect((await viewer.get(`/v1/releases/${id}`)).status).toBe(200);
    const refused = await viewer.post(`/v1/releases/${id}/pause`, { reason: 'curious' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect((await ctx.admin.post(`/v1/releases/${id}/abort`, { reason: 'cleanup' })).status).toBe(200);
  });
});
