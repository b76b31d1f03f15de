import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { bucketSaltOf, createAppWithBundles, devicesInBuckets, establishDevices, startRelease } from '../support/fixtures';
import type { JsonResponse } from '../support/http';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';
import { waitFor } from '../../scripts/support/until';

interface ReleaseDetails {
  status: string;
  reason: string | null;
  gates: { evidence: { windowEnd: number | null; tripwire: Array<{ metric: string; devices: number; events: number }> } } | null;
}

/**
 * A telemetry batch whose commit lands after a gate check read the counting window it chose must
 * still be counted by a gate: the rows are held back here by a transaction of the test's own, as long
 * as it takes a gate check to read past the moment the batch was written, however slow the machine.
 */
describe("late telemetry and the gate's barrier", () => {
  const ctx = useTestStack();

  const read = async (id: string) => (await ctx.admin.get(`/v1/releases/${id}`)).body as ReleaseDetails;

  /** A running release whose only gate (a tripwire on boot failures) counts canary device-windows; and two established canary devices. */
  const startCanary = async (appId: string) => {
    await createAppWithBundles(ctx.admin, appId, ['2.0.0']);
    const gates = [{ kind: 'tripwire', metric: 'boot_failed' }];
    // 200 ms checks: 100 ms counting windows. A long first soak: nothing but the gate's counts changes.
    const stages = [
      { exposureBps: 1000, minSoakMs: 600_000, checkIntervalMs: 200, gates },
      { exposureBps: 10_000, minSoakMs: 1000, checkIntervalMs: 200, gates },
    ];
    const id = await startRelease(ctx.admin, appId, { version: '2.0.0', plan: { stages } });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running' && r.exposure.default === 1000);
    const devices = devicesInBuckets(await bucketSaltOf(ctx.stack, id), 0, 1000, 2, 'late');
    await establishDevices(ctx.stack, appId, devices);
    return { id, devices };
  };

  const report = (appId: string, deviceId: string, type: string, at: string) =>
    ctx.device.post(`/v1/apps/${appId}/events`, { deviceId, platform: 'android', nativeVersion: '2.0.0', events: [{ type, at, bundleVersion: '2.0.0' }] });

  /** The moment the batch writing the device-windows was seen waiting for the test's transaction. */
  const waitForBlockedBatch = async () => {
    await waitFor(
      'the telemetry batch to wait for the blocking transaction',
      async () =>
        (
          await ctx.stack.db.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity a
             WHERE a.datname = current_database() AND a.wait_event_type = 'Lock' AND a.query LIKE '%INSERT INTO device_reports%'`,
          )
        ).rows[0]!.n,
      (n) => n > 0,
      { everyMs: 20 },
    );
    return Date.now();
  };

  /** A gate check of the release that read every window of the blocked batch's time, or one that waits for the batch. */
  const waitForGateAfter = (id: string, blockedAt: number) =>
    waitFor(
      `a gate check of release ${id} to read past ${blockedAt} or to wait for the batch`,
      async () => {
        const { rows } = await ctx.stack.db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity a
           WHERE a.datname = current_database() AND a.wait_event_type = 'Lock' AND a.wait_event = 'advisory'`,
        );
        return { windowEnd: (await read(id)).gates?.evidence.windowEnd ?? null, waiting: rows[0]!.n };
      },
      (seen) => (seen.windowEnd ?? -Infinity) > blockedAt || seen.waiting > 0,
      { everyMs: 20 },
    );

  /** Once the batch is acknowledged, a gate check that read past it: what has the gate counted? */
  const countedAfter = async (id: string, answer: Promise<JsonResponse>) => {
    expect((await answer).status).toBe(202);
    const acknowledged = Date.now();
    const details = await waitFor(`a gate check of release ${id} reading past ${acknowledged}`, () => read(id), (r) => (r.gates?.evidence.windowEnd ?? -Infinity) > acknowledged, {
      everyMs: 50,
    });
    expect(details.status, details.reason ?? undefined).toBe('running');
    return details.gates!.evidence.tripwire.find((t) => t.metric === 'boot_failed');
  };

  const withBlocker = async (block: (client: pg.Client) => Promise<void>, run: () => Promise<void>) => {
    const blocker = new pg.Client({ connectionString: ctx.stack.db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await block(blocker);
      await run();
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      await blocker.end();
    }
  };

  it('counts a batch that commits after a gate check read the window it was written in', async () => {
    const appId = 'com.example.latebatch';
    const { id, devices } = await startCanary(appId);
    let answer!: Promise<JsonResponse>;
    let blockedAt = 0;
    // Writes to the device-windows wait for this lock; the gate's reads do not.
    await withBlocker(
      (blocker) => blocker.query('LOCK TABLE release_device_windows IN EXCLUSIVE MODE').then(() => undefined),
      async () => {
        answer = report(appId, devices[0]!, 'boot_failed', new Date().toISOString());
        blockedAt = await waitForBlockedBatch();
        await waitForGateAfter(id, blockedAt);
      },
    );
    expect(await countedAfter(id, answer)).toMatchObject({ devices: 1, events: 1 });
  });

  it("counts a batch held up in its write while a gate check reads: the check waits for it", async () => {
    const appId = 'com.example.heldbatch';
    const { id, devices } = await startCanary(appId);
    const at = new Date().toISOString();
    // The first batch creates the rollup rows the second one will add to.
    expect((await report(appId, devices[0]!, 'install_ok', at)).status).toBe(202);
    let answer!: Promise<JsonResponse>;
    let blockedAt = 0;
    // Holding the release's rollup rows holds up the second batch in the middle of its write.
    await withBlocker(
      (blocker) => blocker.query('SELECT 1 FROM rollup_buckets b WHERE b.release_id = $1 FOR UPDATE', [id]).then(() => undefined),
      async () => {
        answer = report(appId, devices[1]!, 'boot_failed', at);
        blockedAt = await waitForBlockedBatch();
        await waitForGateAfter(id, blockedAt);
      },
    );
    expect(await countedAfter(id, answer)).toMatchObject({ devices: 2, events: 1 });
  });
});
