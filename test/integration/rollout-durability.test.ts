import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import type { rollout } from '../../workflows/rollout';
import { createAppWithBundles, startRelease } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';
import { waitFor } from '../../scripts/support/until';

const { PendingActivityState, PendingWorkflowTaskState } = temporal.api.enums.v1;

interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A webhook receiver that refuses the first delivery of every event, to exercise retries. */
async function startReceiver(): Promise<{ url: string; deliveries: Delivery[]; server: Server }> {
  const deliveries: Delivery[] = [];
  const refusedOnce = new Set<string>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key']);
      if (!refusedOnce.has(key)) {
        refusedOnce.add(key);
        res.writeHead(503).end();
        return;
      }
      deliveries.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, deliveries, server };
}

describe('durable rollouts', () => {
  const ctx = useTestStack();

  it('continues as new when Temporal suggests it and carries the whole state over', async () => {
    const appId = 'com.example.longbake';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    // A slow webhook keeps notifications in flight while runs hand over, where commands can race them.
    const slow = createServer((_req, res) => setTimeout(() => res.writeHead(204).end(), 300));
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    await ctx.admin.post(`/v1/apps/${appId}/webhooks`, { url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/` });
    // The test server suggests continue-as-new after 60 history events; 150 ms ticks get there quickly.
    const id = await startRelease(ctx.admin, appId, {
      version: '1.0.0',
      plan: {
        stages: [
          { exposureBps: 500, minSoakMs: 4000, checkIntervalMs: 150, gates: [] },
          { exposureBps: 10_000, minSoakMs: 1500, checkIntervalMs: 150, gates: [] },
        ],
      },
    });
    const handle = ctx.stack.temporal.workflow.getHandle<typeof rollout>(`release-${id}`);
    const firstRun = (await handle.describe()).runId;
    await waitForServed(ctx.stack, id, (r) => r.exposure.default === 500);
    // Commands keep arriving while runs hand over to their successors; every one must be answered.
    for (let round = 0; round < 5; round++) {
      expect((await ctx.admin.post(`/v1/releases/${id}/pause`, { reason: `look at the dashboards (${round})` })).body.status).toBe('paused');
      expect((await ctx.admin.post(`/v1/releases/${id}/resume`, { reason: `all good (${round})` })).body.status).toBe('running');
    }
    await waitForServed(ctx.stack, id, (r) => r.status === 'completed');

    const result = await handle.result();
    expect(result.status).toBe('completed');
    const pauses = Array.from({ length: 5 }, () => ['paused', 'resumed']).flat();
    expect(result.history.map((t) => t.event)).toEqual(['started', 'stage_started', ...pauses, 'stage_started', 'completed']);
    expect(result.history.map((t) => t.seq)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    const lastRun = (await handle.describe()).runId;
    expect(lastRun).not.toBe(firstRun);
    const first = await ctx.stack.temporal.workflow.getHandle(`release-${id}`, firstRun).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');

    // Every transition reached the audit log exactly once, across all runs.
    const { rows } = await ctx.stack.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE target = $1 AND idempotency_key IS NOT NULL`, [`release:${id}`]);
    expect(rows[0]!.n).toBe(14);
    slow.close();
  });

  it('finishes correctly when its worker restarts in the middle of a bake', async () => {
    const appId = 'com.example.restart';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const id = await startRelease(ctx.admin, appId, {
      version: '1.0.0',
      plan: {
        stages: [
          { exposureBps: 2500, minSoakMs: 2000, checkIntervalMs: 200, gates: [] },
          { exposureBps: 10_000, minSoakMs: 500, checkIntervalMs: 200, gates: [] },
        ],
      },
    });
    await waitForServed(ctx.stack, id, (r) => r.stageIndex === 0 && r.status === 'running');
    await ctx.stack.stopWorker();
    // Temporal keeps the workflow's clock and pending work while no worker is there: wait until it has
    // scheduled a task (a fired timer's workflow task, or an activity) that nobody picks up. Nothing
    // is decided meanwhile; a worker started later resumes the rollout where it was.
    const handle = ctx.stack.temporal.workflow.getHandle(`release-${id}`);
    await waitFor(
      'Temporal to hold a task of the release that no worker starts',
      async () => (await handle.describe()).raw,
      ({ pendingWorkflowTask, pendingActivities }) =>
        pendingWorkflowTask?.state === PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED ||
        (pendingActivities ?? []).some((a) => a.state === PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED),
      { everyMs: 200 },
    );
    expect(ctx.stack.api.deps.snapshot.release(id)).toMatchObject({ status: 'running', stageIndex: 0, exposure: { default: 2500 } });
    await ctx.stack.startWorker();
    const done = await waitForServed(ctx.stack, id, (r) => r.status === 'completed');
    expect(done.exposure).toEqual({ default: 10_000 });
    const details = await ctx.admin.get(`/v1/releases/${id}`);
    expect(details.body.history.map((t: { event: string }) => t.event)).toEqual(['started', 'stage_started', 'stage_started', 'completed']);
  });

  it('signs webhooks, retries failed deliveries and keys them for idempotency', async () => {
    const receiver = await startReceiver();
    try {
      const appId = 'com.example.hooks';
      await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
      const hook = await ctx.admin.post(`/v1/apps/${appId}/webhooks`, { url: receiver.url, events: ['stage_started', 'completed', 'rolled_back'] });
      expect(hook.status).toBe(201);
      expect(hook.body.secret).toMatch(/^whsec_/);
      expect((await ctx.admin.get(`/v1/apps/${appId}/webhooks`)).body.webhooks[0]).not.toHaveProperty('secret');

      const id = await startRelease(ctx.admin, appId, {
        version: '1.0.0',
        plan: { stages: [{ exposureBps: 5000, minSoakMs: 300, checkIntervalMs: 100, gates: [] }, { exposureBps: 10_000, minSoakMs: 300, checkIntervalMs: 100, gates: [] }] },
      });
      await ctx.stack.temporal.workflow.getHandle(`release-${id}`).result();
      // The worker's outbox drainer delivers after the workflow has moved on (the first try of each is refused).
      await waitFor('every delivery to be accepted', () => Promise.resolve(receiver.deliveries.length), (n) => n >= 3);

      const events = receiver.deliveries.map((d) => JSON.parse(d.body) as { event: string; id: string; release: { id: string } });
      expect(events.map((e) => e.event).sort()).toEqual(['completed', 'stage_started', 'stage_started']);
      expect(new Set(events.map((e) => e.id)).size).toBe(3);
      for (const delivery of receiver.deliveries) {
        const [t, v1] = String(delivery.headers['x-rampart-signature']).split(',').map((part) => part.split('=')[1]);
        const expected = createHmac('sha256', hook.body.secret as string).update(`${t}.${delivery.body}`).digest('hex');
        expect(v1).toBe(expected);
        expect(delivery.headers['idempotency-key']).toBe(JSON.parse(delivery.body).id);
        expect(JSON.parse(delivery.body).release.id).toBe(id);
      }
    } finally {
      receiver.server.close();
    }
  });
});
