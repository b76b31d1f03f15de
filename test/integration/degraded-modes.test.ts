import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createPool, type Pool } from '../../db/create-pool';
import { createLogger } from '../../platform/logger';
import { findTemporalCli, freePort, startTemporalDevServer, type DevServer } from '../../platform/temporal-dev-server';
import { startInProcessStack, type InProcessStack } from '../../scripts/support/in-process-stack';
import { waitFor } from '../../scripts/support/until';
import { createAppWithBundles, deviceInBuckets, startRelease } from '../support/fixtures';
import { createHttp, type Http } from '../support/http';
import { waitForServed } from '../support/rollout-waits';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { useTestStack } from '../support/test-stack';

const logger = createLogger('rampart-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const RETRY_AFTER_SECONDS = 7;
const longPlan = {
  stages: [
    { exposureBps: 1000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
    { exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
  ],
};

interface Private {
  db: TestDatabase;
  stack: InProcessStack;
  admin: Http;
  device: Http;
}

/** A stack of its own (database, task queue), on the given Temporal server and PostgreSQL connections. */
async function startPrivateStack(options: { pool?: (db: TestDatabase) => { pool: Pool; url: string }; temporalAddress: string; tuning?: Parameters<typeof startInProcessStack>[0]['tuning'] }): Promise<Private> {
  const db = await createTestDatabase();
  const { pool, url } = options.pool?.(db) ?? { pool: db.pool, url: db.url };
  const adminKey = `test-admin-${randomBytes(12).toString('hex')}`;
  const stack = await startInProcessStack({
    pool,
    databaseUrl: url,
    temporalAddress: options.temporalAddress,
    taskQueue: `test-${randomBytes(6).toString('hex')}`,
    adminKey,
    logger,
    metricsPrefix: `degraded_${randomBytes(3).toString('hex')}`,
    tuning: { unavailableRetryAfterSeconds: RETRY_AFTER_SECONDS, ...options.tuning },
    workflowBundlePath: inject('testEnv').workflowBundlePath,
  });
  return { db, stack, admin: createHttp(stack.baseUrl, adminKey), device: createHttp(stack.baseUrl) };
}

const checkBody = (deviceId: string, bundleVersion = 'builtin') => ({ deviceId, platform: 'android', nativeVersion: '2.0.0', bundleVersion });
const eventsBody = (deviceId: string) => ({
  deviceId,
  platform: 'android',
  nativeVersion: '2.0.0',
  events: [{ type: 'session_start', at: new Date().toISOString(), bundleVersion: 'builtin' }],
});

function expectUnavailable(res: { status: number; headers: Headers; body: { error?: { code: string } } }, code: string) {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
  expect(res.body.error).toMatchObject({ code });
}

describe('PostgreSQL down (the API reaches it through a proxy the test stops)', () => {
  let proxy: TcpProxy;
  let pool: Pool;
  let ctx: Private;
  const appId = 'com.example.pg-down';
  let releaseId: string;
  let canary: string;

  beforeAll(async () => {
    const server = new URL(inject('testEnv').postgresUrl);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    ctx = await startPrivateStack({
      temporalAddress: inject('testEnv').temporalAddress,
      tuning: { telemetryMaxQueued: 20 },
      pool: (db) => {
        const url = new URL(db.url);
        url.port = String(proxy.port);
        pool = createPool(url.toString(), 5, { connectTimeoutMs: 1000, statementTimeoutMs: 5000 });
        // Connections the proxy drops are expected here.
        pool.on('error', () => undefined);
        return { pool, url: url.toString() };
      },
    });
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    releaseId = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: longPlan });
    const served = await waitForServed(ctx.stack, releaseId, (r) => r.status === 'running' && r.exposure.default === 1000);
    canary = deviceInBuckets(served.bucketSalt, 0, 1000);
  });

  afterAll(async () => {
    await proxy?.start().catch(() => undefined);
    await ctx?.stack.stop();
    await pool?.end();
    await ctx?.db.drop();
    await proxy?.stop();
  });

  it('bounds every statement with the configured timeout', async () => {
    const { rows } = await pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
    expect(rows[0]!.statement_timeout).toBe('5s');
  });

  it('keeps answering checks from memory, answers ingestion and admin calls 503 with Retry-After, stays ready', async () => {
    await proxy.stop();

    const check = await ctx.device.post(`/v1/apps/${appId}/check`, checkBody(canary));
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ action: 'update', bundle: { version: '1.0.0' }, releaseId });

    expectUnavailable(await ctx.device.post(`/v1/apps/${appId}/events`, eventsBody('device-a')), 'database_unavailable');
    expectUnavailable(await ctx.admin.get(`/v1/apps/${appId}/bundles`), 'database_unavailable');
    expectUnavailable(await ctx.admin.post(`/v1/apps/${appId}/bundles`, { version: '9.9.9', url: 'https://cdn.example.com/b.zip', sha256: 'a'.repeat(64), size: 1 }), 'database_unavailable');

    expect(await ctx.device.get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(await ctx.device.get('/healthz')).toMatchObject({ status: 200, body: { status: 'degraded', dependencies: { postgres: 'down', temporal: 'up' } } });
  });

  it('sheds ingestion with 503 beyond the bounded queue while PostgreSQL hangs, and recovers when it is back', async () => {
    // Accepts connections and never answers: writes wait for the pool's connect timeout meanwhile.
    await proxy.start('blackhole');
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => ctx.device.post(`/v1/apps/${appId}/events`, eventsBody(`device-shed-${i}`))));
    const codes = answers.map((a) => (a.body as { error?: { code: string } }).error?.code);
    expect(codes).toContain('ingestion_overloaded');
    // Those that waited gave up after the connect timeout; none hung, none was accepted.
    expect(new Set(codes)).toEqual(new Set(['ingestion_overloaded', 'database_unavailable']));
    for (const answer of answers) expectUnavailable(answer, (answer.body as { error: { code: string } }).error.code);
    const shed = await ctx.stack.api.deps.registry.getSingleMetric('rampart_telemetry_events_shed_total')!.get();
    expect(shed.values[0]!.value).toBe(codes.filter((c) => c === 'ingestion_overloaded').length);

    await proxy.stop();
    await proxy.start('forward');
    await waitFor(
      'ingestion to accept events again',
      () => ctx.device.post(`/v1/apps/${appId}/events`, eventsBody('device-back')),
      (res) => res.status === 202,
    );
    // Probes are shared for a second: an earlier answer may still say down.
    const healthy = await waitFor('/healthz to report PostgreSQL up', () => ctx.device.get('/healthz'), (res) => res.body.status === 'ok');
    expect(healthy.body).toMatchObject({ dependencies: { postgres: 'up', temporal: 'up' } });
    // The NOTIFY listener reconnected by itself: a command reaches devices again without a full reload.
    expect((await ctx.admin.post(`/v1/releases/${releaseId}/pause`, { reason: 'after the outage' })).status).toBe(200);
    await waitForServed(ctx.stack, releaseId, (r) => r.status === 'paused', 20_000);
  });
});

describe('the worker down', () => {
  const ctx = useTestStack({ temporalCommandTimeoutMs: 1500, unavailableRetryAfterSeconds: RETRY_AFTER_SECONDS });

  it('a command answers 503 worker_unavailable at its deadline instead of hanging, and works again with a worker', async () => {
    const appId = 'com.example.worker-down';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const id = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: longPlan });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');

    await ctx.stack.stopWorker();
    const refused = await ctx.admin.post(`/v1/releases/${id}/pause`, { reason: 'paged' }, { 'idempotency-key': 'pause-1' });
    expectUnavailable(refused, 'worker_unavailable');
    expect(refused.body.error.message).toMatch(/no worker/);
    // Ready and serving all along: devices never needed the worker.
    expect((await ctx.device.get('/readyz')).status).toBe(200);
    expect((await ctx.device.post(`/v1/apps/${appId}/check`, checkBody('device-1'))).status).toBe(200);

    // On-call retries with the same key, as the answer suggests; Temporal hands the workflow to the
    // new worker once the old one's sticky queue times out.
    await ctx.stack.startWorker();
    const paused = await waitFor(
      'the pause to be applied by the restarted worker',
      () => ctx.admin.post(`/v1/releases/${id}/pause`, { reason: 'paged' }, { 'idempotency-key': 'pause-1' }),
      (res) => res.status !== 503,
    );
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ status: 'paused' });
    const audit = await ctx.stack.db.pool.query('SELECT 1 FROM audit_log WHERE target = $1 AND action = $2', [`release:${id}`, 'release.paused']);
    expect(audit.rowCount).toBe(1);
  });
});

describe('Temporal down (a dev server of its own, stopped for real)', () => {
  let server: DevServer;
  let ctx: Private;

  beforeAll(async () => {
    server = await startTemporalDevServer({ cliPath: await findTemporalCli(), port: await freePort(), logFile: path.resolve('.data/temporal-degraded-test.log') });
    ctx = await startPrivateStack({ temporalAddress: server.address, tuning: { temporalCommandTimeoutMs: 3000, temporalQueryTimeoutMs: 1000 } });
  });

  afterAll(async () => {
    await ctx?.stack.stop();
    await ctx?.db.drop();
    await server?.stop();
  });

  it('checks are answered from memory and the API stays ready; admin calls that need Temporal answer 503', async () => {
    const appId = 'com.example.temporal-down';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '2.0.0']);
    const id = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: longPlan });
    const served = await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    const canary = deviceInBuckets(served.bucketSalt, 0, 1000);

    await ctx.stack.stopWorker();
    await server.stop();

    expect((await ctx.device.post(`/v1/apps/${appId}/check`, checkBody(canary))).body).toMatchObject({ action: 'update', bundle: { version: '1.0.0' } });
    expect((await ctx.device.post(`/v1/apps/${appId}/events`, eventsBody(canary))).status).toBe(202);
    expect(await ctx.device.get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(await ctx.device.get('/healthz')).toMatchObject({ status: 200, body: { status: 'degraded', dependencies: { postgres: 'up', temporal: 'down' } } });

    expectUnavailable(await ctx.admin.post(`/v1/releases/${id}/rollback`, { reason: 'paged' }), 'temporal_unavailable');
    expectUnavailable(await ctx.admin.post(`/v1/releases/${id}/force-withdraw`, { reason: 'paged' }), 'temporal_unavailable');
    // What devices are served, when the workflow cannot be asked.
    expect((await ctx.admin.get(`/v1/releases/${id}`)).body).toMatchObject({ status: 'running', live: false });
    await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'beta' });
    const start = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '2.0.0', channel: 'beta', plan: longPlan });
    expectUnavailable(start, 'temporal_unavailable');
    // The release row written before the start is withdrawn at once: the channel stays free.
    const beta = await ctx.admin.get(`/v1/apps/${appId}/releases?channel=beta`);
    expect(beta.body.releases).toEqual([expect.objectContaining({ version: '2.0.0', status: 'aborted' })]);
  });
});
