import { describe, expect, it } from 'vitest';
import { createReleaseStore } from '../../db/stores/release-store';
import { workflowIdFor, type Release } from '../../domain/release';
import { waitFor } from '../../scripts/support/until';
import { stateQuery } from '../../workflows/messages';
import { bucketSaltOf, createAppWithBundles, deviceInBuckets, startRelease } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { signalWorkflow, temporalCli } from '../support/temporal-cli';
import { useTestStack } from '../support/test-stack';

// Stages that never end on their own: only a command, a terminate or the reconciler moves them.
const longPlan = {
  stages: [
    { exposureBps: 1000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
    { exposureBps: 5000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
    { exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
  ],
};

const START_GRACE_MS = 60_000;

interface AuditRow {
  actor: string;
  action: string;
  reason: string;
  details: Record<string, unknown>;
}

describe('releases cannot get stuck', () => {
  // The reconciler runs every half second; a row without a workflow is left alone for a minute.
  const ctx = useTestStack({}, { reconciler: { intervalMs: 500, startGraceMs: START_GRACE_MS } });

  const check = (appId: string, deviceId: string, bundleVersion: string) =>
    ctx.device.post(`/v1/apps/${appId}/check`, { deviceId, platform: 'android', nativeVersion: '2.0.0', bundleVersion });

  const auditOf = async (releaseId: string, action: string) =>
    (
      await ctx.stack.db.pool.query<AuditRow>('SELECT actor, action, reason, details FROM audit_log WHERE target = $1 AND action = $2 ORDER BY id', [
        `release:${releaseId}`,
        action,
      ])
    ).rows;

  /** What the API leaves behind when it dies between writing the release row and starting its workflow. */
  const orphanRelease = async (like: Release, version: string): Promise<string> => {
    const id = `${like.id}-orphan`;
    const outcome = await createReleaseStore(ctx.stack.db.pool).insert({ ...like, id, version, bucketSalt: id, status: 'pending', workflowId: workflowIdFor(id) });
    if (!('inserted' in outcome)) throw new Error('the channel is busy');
    return id;
  };

  it('withdraws a release whose workflow was terminated mid-bake, and the channel takes a new release', async () => {
    const appId = 'com.example.terminated';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '2.0.0']);
    // Nothing listens there: the outbox row is what this test reads.
    expect((await ctx.admin.post(`/v1/apps/${appId}/webhooks`, { url: 'http://127.0.0.1:9/hook', events: ['aborted'] })).status).toBe(201);
    const id = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: longPlan });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running' && r.exposure.default === 1000);
    const salt = await bucketSaltOf(ctx.stack, id);
    const canary = deviceInBuckets(salt, 0, 1000);
    expect((await check(appId, canary, 'builtin')).body).toMatchObject({ action: 'update', bundle: { version: '1.0.0' } });

    await temporalCli(['workflow', 'terminate', '--workflow-id', workflowIdFor(id), '--reason', 'operator mistake']);

    const served = await waitForServed(ctx.stack, id, (r) => r.status === 'aborted');
    expect(served.exposure).toEqual({ default: 0 });
    // Exactly like a rollback for devices: the canary goes back to the bundle in its binary.
    expect((await check(appId, canary, '1.0.0')).body).toEqual({ action: 'rollback', bundle: null, releaseId: id });
    const [audit] = await auditOf(id, 'release.aborted');
    expect(audit).toMatchObject({ actor: 'reconciler', reason: expect.stringMatching(/closed as TERMINATED/) });
    expect(audit!.details).toMatchObject({ from: 'running', to: 'aborted', workflowStatus: 'TERMINATED', exposure: { default: 0 } });
    // Receivers hear of it as of any other transition, once.
    const outbox = await ctx.stack.db.pool.query<{ idempotency_key: string; event: string; payload: Record<string, unknown> }>(
      'SELECT idempotency_key, event, payload FROM webhook_outbox WHERE app_id = $1',
      [appId],
    );
    expect(outbox.rows).toEqual([
      {
        idempotency_key: `${id}:withdrawn`,
        event: 'aborted',
        payload: expect.objectContaining({
          id: `${id}:withdrawn`,
          event: 'aborted',
          release: { id, appId, channel: 'production', version: '1.0.0' },
          transition: expect.objectContaining({ from: 'running', to: 'aborted', actor: 'reconciler' }),
        }),
      },
    ]);

    const details = await ctx.admin.get(`/v1/releases/${id}`);
    expect(details.body).toMatchObject({ status: 'aborted', live: false, reason: expect.stringMatching(/TERMINATED/) });
    const rollback = await ctx.admin.post(`/v1/releases/${id}/rollback`, { reason: 'too late' });
    expect(rollback.status).toBe(409);

    const next = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '2.0.0', plan: longPlan });
    expect(next.status).toBe(201);
    await waitForServed(ctx.stack, next.body.id as string, (r) => r.status === 'running');
  });

  it('a workflow reset to before its rollback cannot publish the release running again', async () => {
    const appId = 'com.example.reset';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const id = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: longPlan });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    const rolledBack = await ctx.admin.post(`/v1/releases/${id}/rollback`, { reason: 'crash reports' });
    expect(rolledBack.body).toMatchObject({ status: 'rolled_back' });
    const withdrawn = await waitForServed(ctx.stack, id, (r) => r.status === 'rolled_back');

    // The last workflow task completed before the rollback Update arrived: the point on-call resets to.
    const history = JSON.parse(await temporalCli(['workflow', 'show', '--workflow-id', workflowIdFor(id), '--output', 'json'])) as {
      events: Array<{ eventId: string; eventType: string }>;
    };
    const updateAt = history.events.findIndex((e) => /UPDATE_ACCEPTED|UpdateAccepted/.test(e.eventType));
    const resetPoint = history.events.slice(0, updateAt).findLast((e) => /WORKFLOW_TASK_COMPLETED|WorkflowTaskCompleted/.test(e.eventType));
    expect(resetPoint).toBeDefined();
    await temporalCli(['workflow', 'reset', '--workflow-id', workflowIdFor(id), '--event-id', resetPoint!.eventId, '--reason', 'test', '--reapply-exclude', 'All']);

    // The new run believes the release is running; two promotions give it revisions above the rollback's.
    await signalWorkflow(workflowIdFor(id), 'promote', { actor: 'oncall:bob', reason: 'after reset' });
    await signalWorkflow(workflowIdFor(id), 'promote', { actor: 'oncall:bob', reason: 'after reset, again' });
    const handle = ctx.stack.temporal.workflow.getHandle(workflowIdFor(id));
    const view = await waitFor(
      'the reset run to have published two promotions',
      () => handle.query(stateQuery),
      (v) => v.publishedRevision >= withdrawn.revision + 1 && v.stageIndex === 2,
    );
    expect(view.status).toBe('running');

    const stored = await ctx.stack.db.pool.query<{ status: string; revision: number }>('SELECT status, revision FROM rollout_state WHERE release_id = $1', [id]);
    expect(stored.rows[0]).toEqual({ status: 'rolled_back', revision: withdrawn.revision });
    expect((await ctx.stack.db.pool.query<{ status: string }>('SELECT status FROM releases WHERE id = $1', [id])).rows[0]!.status).toBe('rolled_back');
    expect(ctx.stack.api.deps.snapshot.release(id)).toMatchObject({ status: 'rolled_back', revision: withdrawn.revision });
    await handle.terminate('test over');
  });

  it('withdraws a release whose workflow never started once the grace period has passed', async () => {
    const appId = 'com.example.never-started';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '2.0.0']);
    const first = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: longPlan, channel: 'production' });
    const firstRelease = (await ctx.admin.get(`/v1/releases/${first}`)).body as Release;
    await ctx.admin.post(`/v1/releases/${first}/abort`, { reason: 'make room' });
    const orphan = await orphanRelease(firstRelease, '2.0.0');

    const refused = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: longPlan });
    expect(refused.body.error).toMatchObject({ code: 'release_active', details: { activeReleaseId: orphan } });
    // Within the grace period the API may still be about to start the workflow.
    expect(await ctx.stack.reconciler!.runOnce(Date.now())).not.toContain(orphan);
    expect(await ctx.stack.reconciler!.runOnce(Date.now() + START_GRACE_MS + 1000)).toContain(orphan);

    const [audit] = await auditOf(orphan, 'release.aborted');
    expect(audit).toMatchObject({ actor: 'reconciler', reason: expect.stringMatching(/never started/) });
    expect((await ctx.admin.get(`/v1/releases/${orphan}`)).body).toMatchObject({ status: 'aborted' });
    expect((await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: longPlan })).status).toBe(201);
  });

  it('force-withdraw: on demand for a release without a running workflow, refused while the workflow runs', async () => {
    const appId = 'com.example.force-withdraw';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '2.0.0']);
    const running = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: longPlan });
    await waitForServed(ctx.stack, running, (r) => r.status === 'running');

    const refused = await ctx.admin.post(`/v1/releases/${running}/force-withdraw`, { reason: 'stuck?' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'workflow_running', message: expect.stringMatching(/rollback/) });
    expect((await auditOf(running, 'release.command_refused'))[0]).toMatchObject({ reason: 'stuck?', details: { command: 'force-withdraw' } });
    const noReason = await ctx.admin.post(`/v1/releases/${running}/force-withdraw`, {});
    expect(noReason.status).toBe(400);

    const runningRelease = (await ctx.admin.get(`/v1/releases/${running}`)).body as Release;
    await ctx.admin.post(`/v1/releases/${running}/abort`, { reason: 'make room' });
    const orphan = await orphanRelease(runningRelease, '2.0.0');
    const withdrawn = await ctx.admin.post(`/v1/releases/${orphan}/force-withdraw`, { reason: 'API died during the start' });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toMatchObject({ id: orphan, status: 'aborted', live: false });
    const [audit] = await auditOf(orphan, 'release.aborted');
    expect(audit).toMatchObject({ actor: 'key:bootstrap-admin', reason: expect.stringMatching(/^API died during the start \(force-withdraw; workflow never_started\)/) });
    expect(audit!.details).toMatchObject({ withdrawnBy: 'force-withdraw', workflowStatus: 'NEVER_STARTED' });

    const again = await ctx.admin.post(`/v1/releases/${orphan}/force-withdraw`, { reason: 'twice' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('release_finished');
    expect((await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '2.0.0', plan: longPlan })).status).toBe(201);
  });
});
