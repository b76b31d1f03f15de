import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { waitFor } from '../../scripts/support/until';
import { deliveryProblems, ledgerProblems, pendingDeliveries, transitionsOf } from '../support/fault-ledger';
import { startProcessStack, type ProcessStack } from '../support/process-stack';
import { devicesInBuckets } from '../support/fixtures';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { FAULT_SIZE, faultTimeout } from './fault-size';
import { startServedRelease } from './served-release';

const OUTAGE_MS = FAULT_SIZE.postgresOutageMs;
const appId = 'com.example.faults.postgres';
// Stage 0 holds until on-call promotes it, through Temporal, while PostgreSQL is gone: the worker
// decides to advance during the outage and can publish only once it is back.
const plan = {
  stages: [
    { exposureBps: 1000, minSoakMs: 600_000, checkIntervalMs: 1000, gates: [] },
    { exposureBps: 10_000, minSoakMs: 1500, checkIntervalMs: 500, gates: [] },
  ],
};
const eventsBody = (deviceId: string) => ({ deviceId, platform: 'android', nativeVersion: '2.0.0', events: [{ type: 'session_start', at: new Date().toISOString(), bundleVersion: 'builtin' }] });

/** The URL with its host and port replaced by the proxy's. */
const through = (proxy: () => TcpProxy) => (url: string) => {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy().port);
  return u.toString();
};

describe(`PostgreSQL gone for ${OUTAGE_MS / 1000} s (the API and the worker reach it through proxies the test stops)`, () => {
  let stack: ProcessStack;
  let apiProxy: TcpProxy;
  let workerProxy: TcpProxy;

  beforeAll(async () => {
    const server = new URL(inject('testEnv').postgresUrl);
    const target = { host: server.hostname, port: Number(server.port || 5432) };
    [apiProxy, workerProxy] = [await startTcpProxy(target), await startTcpProxy(target)];
    // No periodic reload: catching up after the outage is the change listener's job alone.
    stack = await startProcessStack({ apiDatabaseUrl: through(() => apiProxy), workerDatabaseUrl: through(() => workerProxy), apiEnv: { SNAPSHOT_RECONCILE_MS: '600000' } });
  });
  afterAll(async () => {
    await apiProxy?.start().catch(() => undefined);
    await workerProxy?.start().catch(() => undefined);
    await stack?.stop();
    await apiProxy?.stop();
    await workerProxy?.stop();
  });

  it(
    'checks answer from memory, ingestion sheds with Retry-After, the listener catches up and buffered profiles are written',
    async () => {
      const api = stack.apis[0]!;
      await stack.createApp(appId, ['1.0.0']);
      const { id, salt, answer } = await startServedRelease(stack, api, appId, plan);
      const canaries = devicesInBuckets(salt, 0, 1000, 50, 'canary');
      const [later] = devicesInBuckets(salt, 1000, 10_000, 1, 'later');

      await Promise.all([apiProxy.stop(), workerProxy.stop()]);
      const outageEnds = Date.now() + OUTAGE_MS;
      await stack.temporal.workflow.getHandle(`release-${id}`).signal('promote', { actor: 'oncall:test', reason: 'promoted while PostgreSQL is down' });
      const sighted: string[] = [];
      const refusals: Array<{ status: number; retryAfter: string | null }> = [];
      // Devices keep coming for the whole outage; what they are told is the test.
      while (Date.now() < outageEnds) {
        const deviceId = `outage-${sighted.length}`;
        const [newcomer, known, events] = await Promise.all([
          answer(deviceId),
          answer(canaries[sighted.length % canaries.length]!),
          api.device.post(`/v1/apps/${appId}/events`, eventsBody(deviceId)),
        ]);
        sighted.push(deviceId);
        expect(known).toMatchObject({ action: 'update', releaseId: id });
        expect(newcomer.action).toMatch(/^(update|none)$/);
        refusals.push({ status: events.status, retryAfter: events.headers.get('retry-after') });
      }
      expect(new Set(refusals.map((r) => r.status))).toEqual(new Set([503]));
      expect(refusals.every((r) => Number(r.retryAfter) > 0)).toBe(true);

      // PostgreSQL is back for the worker first: stage 1 is published (and NOTIFY sent) while the
      // API still cannot hear it, so it must catch up once its own connections are back.
      await workerProxy.start();
      await waitFor(
        'the worker to publish stage 1',
        async () => (await stack.db.pool.query<{ stage_index: number }>('SELECT rs.stage_index FROM rollout_state rs WHERE rs.release_id = $1', [id])).rows[0]?.stage_index,
        (stage) => stage === 1,
        { timeoutMs: 90_000, everyMs: 200 },
      );
      expect(await answer(later!)).toMatchObject({ action: 'none' });
      await apiProxy.start();
      await waitFor('the API to catch up with stage 1', () => answer(later!), (a) => a.action === 'update' && a.releaseId === id, { timeoutMs: 30_000 });
      await waitFor('ingestion to accept events again', () => api.device.post(`/v1/apps/${appId}/events`, eventsBody('after-outage')), (res) => res.status === 202);

      // Every device first seen during the outage is in PostgreSQL: its sighting waited in the buffer.
      await waitFor(
        'the buffered profiles to be written',
        async () => (await stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM devices d WHERE d.app_id = $1 AND d.device_id = ANY($2::text[])', [appId, sighted])).rows[0]!.n,
        (n) => n === sighted.length,
      );

      // The release went on from where it was: it ends, and its ledger is whole.
      const done = await waitFor('the release to complete', () => transitionsOf(stack.db.pool, id), (l) => l.some((t) => t.event === 'completed'), { timeoutMs: 60_000 });
      expect(ledgerProblems(done, 2)).toEqual([]);
      await waitFor('every webhook delivered', () => pendingDeliveries(stack.db.pool), (n) => n === 0);
      expect(deliveryProblems(stack.receiver, id, done)).toEqual([]);
    },
    faultTimeout(OUTAGE_MS),
  );
});
