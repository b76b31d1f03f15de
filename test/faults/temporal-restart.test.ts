import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTemporalCli, freePort, startTemporalDevServer, type DevServer, type DevServerOptions } from '../../platform/temporal-dev-server';
import { waitFor } from '../../scripts/support/until';
import { deliveryProblems, ledgerProblems, pendingDeliveries, transitionsOf } from '../support/fault-ledger';
import { startProcessStack, type ProcessStack } from '../support/process-stack';
import { devicesInBuckets } from '../support/fixtures';
import { FAULT_SIZE, faultTimeout } from './fault-size';
import { startServedRelease } from './served-release';

const OUTAGE_MS = FAULT_SIZE.temporalOutageMs;
const ROOT = path.resolve(__dirname, '../..');
const appId = 'com.example.faults.temporal';
// Stage 0's bake timer is due about when Temporal goes; the workflow goes on from there once it is back.
const plan = {
  stages: [
    { exposureBps: 1000, minSoakMs: Math.max(1500, OUTAGE_MS / 2), checkIntervalMs: 500, gates: [] },
    { exposureBps: 5000, minSoakMs: 1000, checkIntervalMs: 500, gates: [] },
    { exposureBps: 10_000, minSoakMs: 1000, checkIntervalMs: 500, gates: [] },
  ],
};

describe(`the Temporal dev server killed mid-rollout and started again ${OUTAGE_MS / 1000} s later`, () => {
  let dataDir: string;
  let serverOptions: DevServerOptions;
  let server: DevServer;
  let stack: ProcessStack;

  beforeAll(async () => {
    // Under .data/ like the suite's other servers; its SQLite file is what carries the state over.
    dataDir = await mkdtemp(path.join(ROOT, '.data', 'faults-temporal-'));
    serverOptions = {
      cliPath: await findTemporalCli(),
      port: await freePort(),
      dbFilename: path.join(dataDir, 'temporal.db'),
      logFile: path.join(dataDir, 'temporal.log'),
    };
    server = await startTemporalDevServer(serverOptions);
    stack = await startProcessStack({ temporalAddress: server.address });
  });
  afterAll(async () => {
    await stack?.stop();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(
    'checks are unaffected, admin calls answer 503 meanwhile, and the workflow resumes where it was',
    async () => {
      const api = stack.apis[0]!;
      await stack.createApp(appId, ['1.0.0']);
      const { id, salt, answer } = await startServedRelease(stack, api, appId, plan);
      const canaries = devicesInBuckets(salt, 0, 1000, 50, 'canary');
      // Beyond stage 1 too: whether the outage comes before or after stage 0 ends, these are not served yet.
      const others = devicesInBuckets(salt, 5000, 10_000, 50, 'other');

      server.process.kill('SIGKILL');
      await new Promise<void>((resolve) => (server.process.exitCode !== null || server.process.signalCode !== null ? resolve() : server.process.once('exit', () => resolve())));
      const outageEnds = Date.now() + OUTAGE_MS;
      const commands: Array<{ status: number; code?: string; retryAfter: string | null }> = [];
      for (let i = 0; Date.now() < outageEnds; i++) {
        const [canary, other, pause] = await Promise.all([
          answer(canaries[i % canaries.length]!),
          answer(others[i % others.length]!),
          api.admin.post(`/v1/releases/${id}/pause`, { reason: 'paged while Temporal is down' }),
        ]);
        expect(canary).toMatchObject({ action: 'update', releaseId: id });
        expect(other).toMatchObject({ action: 'none' });
        commands.push({ status: pause.status, code: (pause.body as { error?: { code: string } }).error?.code, retryAfter: pause.headers.get('retry-after') });
      }
      expect(commands.length).toBeGreaterThan(0);
      expect(commands.filter((c) => c.status !== 503 || c.code !== 'temporal_unavailable' || !(Number(c.retryAfter) > 0))).toEqual([]);
      expect((await api.device.get('/readyz')).status).toBe(200);

      server = await startTemporalDevServer(serverOptions);
      const done = await waitFor('the release to complete', () => transitionsOf(stack.db.pool, id), (l) => l.some((t) => t.event === 'completed'), {
        timeoutMs: 120_000,
        everyMs: 250,
      }).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${stack.tail()}`);
      });
      // Resumed, not restarted: started once, each stage once and in order.
      expect(ledgerProblems(done, plan.stages.length)).toEqual([]);
      await waitFor('every webhook delivered', () => pendingDeliveries(stack.db.pool), (n) => n === 0);
      expect(deliveryProblems(stack.receiver, id, done)).toEqual([]);
      await waitFor('devices to be served the completed release', () => answer(others[0]!), (a) => a.action === 'update' && a.releaseId === id);
    },
    faultTimeout(OUTAGE_MS),
  );
});
