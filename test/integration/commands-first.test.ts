import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { rollout } from '../../workflows/rollout';
import { createGateReadStall } from '../../scripts/support/gate-read-stall';
import { waitFor } from '../../scripts/support/until';
import { bucketSaltOf, createAppWithBundles, deviceInBuckets, startRelease } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

/** A webhook receiver that takes every request and never answers it. */
async function startSilentReceiver(): Promise<{ url: string; requests: () => number; close: () => void; server: Server }> {
  let requests = 0;
  const server = createServer(() => {
    requests++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    requests: () => requests,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
    server,
  };
}

describe('commands first', () => {
  const stall = createGateReadStall();
  const ctx = useTestStack({}, { wrapActivities: (activities) => stall.wrap(activities) });

  const check = (appId: string, deviceId: string, bundleVersion: string) =>
    ctx.device.post(`/v1/apps/${appId}/check`, { deviceId, platform: 'android', nativeVersion: '2.0.0', bundleVersion });

  it('publishes a rollback while a gate read is stalled: devices see it before the read returns', async () => {
    const appId = 'com.example.stalledgate';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const id = await startRelease(ctx.admin, appId, {
      version: '1.0.0',
      plan: { stages: [{ exposureBps: 5000, minSoakMs: 600_000, checkIntervalMs: 100 }, { exposureBps: 10_000, minSoakMs: 600_000 }] },
    });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running' && r.exposure.default === 5000);
    const salt = await bucketSaltOf(ctx.stack, id);
    const canary = deviceInBuckets(salt, 0, 5000);
    expect((await check(appId, canary, '1.0.0')).body.action).toBe('none');

    stall.arm();
    try {
      await waitFor('a gate read to be held', () => Promise.resolve(stall.held()), (n) => n > 0);
      const rolledBack = await ctx.admin.post(`/v1/releases/${id}/rollback`, { reason: 'crash reports from support' });
      expect(rolledBack.status).toBe(200);
      expect(rolledBack.body).toMatchObject({ status: 'rolled_back', exposure: { default: 0 } });
      await waitFor('the canary to be told to roll back', async () => (await check(appId, canary, '1.0.0')).body.action as string, (a) => a === 'rollback');
      // The read that was in flight when on-call acted is still held: nothing waited for it.
      expect(stall.held()).toBeGreaterThan(0);
      expect(stall.returned()).toBe(0);
    } finally {
      stall.release();
    }
    const result = await ctx.stack.temporal.workflow.getHandle<typeof rollout>(`release-${id}`).result();
    expect(result.status).toBe('rolled_back');
    // The stale read's verdict was discarded: the rollback is the last word.
    expect(result.history.map((t) => t.event)).toEqual(['started', 'stage_started', 'rolled_back']);
    await waitFor('the held read to return', () => Promise.resolve(stall.returned()), (n) => n > 0);
  });

  it('answers commands and continues as new while a webhook receiver never answers', async () => {
    const receiver = await startSilentReceiver();
    try {
      const appId = 'com.example.silenthook';
      await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
      expect((await ctx.admin.post(`/v1/apps/${appId}/webhooks`, { url: receiver.url })).status).toBe(201);
      // The test server suggests continue-as-new after 60 history events; 150 ms ticks get there quickly.
      const id = await startRelease(ctx.admin, appId, {
        version: '1.0.0',
        plan: {
          stages: [
            { exposureBps: 500, minSoakMs: 4000, checkIntervalMs: 150, gates: [] },
            { exposureBps: 10_000, minSoakMs: 1000, checkIntervalMs: 150, gates: [] },
          ],
        },
      });
      const handle = ctx.stack.temporal.workflow.getHandle<typeof rollout>(`release-${id}`);
      const firstRun = (await handle.describe()).runId;
      await waitForServed(ctx.stack, id, (r) => r.exposure.default === 500);
      await waitFor('the receiver to be holding a delivery', () => Promise.resolve(receiver.requests()), (n) => n > 0);
      for (let round = 0; round < 3; round++) {
        expect((await ctx.admin.post(`/v1/releases/${id}/pause`, { reason: `hold on (${round})` })).body.status).toBe('paused');
        expect((await ctx.admin.post(`/v1/releases/${id}/resume`, { reason: `go on (${round})` })).body.status).toBe('running');
      }
      const result = await handle.result();
      expect(result.status).toBe('completed');
      const first = await ctx.stack.temporal.workflow.getHandle(`release-${id}`, firstRun).describe();
      expect(first.status.name).toBe('CONTINUED_AS_NEW');

      // Every transition waits in the outbox for the receiver; none was delivered, none was lost.
      const { rows } = await ctx.stack.db.pool.query<{ event: string; finished: boolean }>(
        `SELECT event, finished_at IS NOT NULL AS finished FROM webhook_outbox WHERE idempotency_key LIKE $1 ORDER BY id`,
        [`${id}:%`],
      );
      expect(rows.map((r) => r.event)).toEqual(result.history.map((t) => t.event));
      expect(rows.every((r) => !r.finished)).toBe(true);
    } finally {
      receiver.close();
    }
  });

  it('keeps undelivered webhooks across a worker restart and delivers them once the receiver is back', async () => {
    let accepting = false;
    const accepted: string[] = [];
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (accepting) accepted.push(String(req.headers['idempotency-key']));
        res.writeHead(accepting ? 204 : 503).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const appId = 'com.example.outboxrestart';
      await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
      await ctx.admin.post(`/v1/apps/${appId}/webhooks`, { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, events: ['completed'] });
      const id = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] } });
      await ctx.stack.temporal.workflow.getHandle(`release-${id}`).result();
      const attempts = async () =>
        (await ctx.stack.db.pool.query<{ attempts: number; finished: boolean }>('SELECT attempts, finished_at IS NOT NULL AS finished FROM webhook_outbox WHERE idempotency_key LIKE $1', [`${id}:%`])).rows;
      await waitFor('a refused attempt', attempts, (rows) => rows.length === 1 && rows[0]!.attempts > 0);

      await ctx.stack.stopWorker();
      accepting = true;
      expect((await attempts())[0]!.finished).toBe(false);
      await ctx.stack.startWorker();
      await waitFor('the delivery after the restart', attempts, (rows) => rows[0]!.finished);
      expect(accepted).toEqual([expect.stringMatching(new RegExp(`^${id}:\\d+$`))]);
    } finally {
      receiver.closeAllConnections();
      receiver.close();
    }
  });
});
