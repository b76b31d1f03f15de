import { chmod, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../platform/temporal-dev-server';
import { bundleBody } from '../support/fixtures';
import { createHttp } from '../support/http';
import { spawnProcess, type SpawnedProcess } from '../support/processes';
import { waitFor } from '../../scripts/support/until';

const ROOT = path.resolve(__dirname, '../..');

/**
 * The lines `npm start` prints as it comes up, each with the longest it may take on a busy CI
 * machine: a slow start fails naming its step, with the last lines of output, rather than as a
 * test timeout. (`scripts/dev-stack.ts` prints `<step> ready (<seconds> s)` after each one.)
 */
const START_STEPS: Array<{ step: string; line: RegExp; withinMs: number }> = [
  // Only start.sh's checks run first; an `npm ci` or a Go build of the Temporal CLI here is a bug.
  { step: 'start.sh hands over to the dev stack', line: /^\[rampart\] PostgreSQL: /, withinMs: 30_000 },
  { step: 'embedded PostgreSQL (initdb, start)', line: /^\[rampart\] PostgreSQL ready/, withinMs: 90_000 },
  { step: 'Temporal dev server', line: /^\[rampart\] Temporal ready/, withinMs: 60_000 },
  { step: 'worker (bundles the workflows)', line: /^\[rampart\] worker ready/, withinMs: 120_000 },
  { step: 'API', line: /^\[rampart\] api ready/, withinMs: 60_000 },
  { step: 'summary', line: /Rampart is running/, withinMs: 5000 },
];
const START_BUDGET_MS = START_STEPS.reduce((sum, s) => sum + s.withinMs, 0);

describe('npm start', () => {
  let stack: SpawnedProcess | null = null;
  let dataDir = '';

  afterAll(async () => {
    if (stack && stack.child.exitCode === null && stack.child.signalCode === null) {
      process.kill(-stack.child.pid!, 'SIGKILL');
      await stack.exited;
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('runs Temporal, an embedded PostgreSQL, the worker and the API with nothing configured, and stops on Ctrl-C', async () => {
    // Under .data/ rather than /tmp: the embedded server runs as the postgres user, which must reach it.
    dataDir = await mkdtemp(path.join(ROOT, '.data', 'npm-start-'));
    await chmod(dataDir, 0o755);
    const [apiPort, temporalPort, uiPort, metricsPort, apiMetricsPort, pgPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'RAMPART_ADMIN_KEY']) delete env[name];
    Object.assign(env, {
      RAMPART_DATA_DIR: dataDir,
      RAMPART_EMBEDDED_POSTGRES: '1',
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      PORT: String(apiPort),
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(uiPort),
      WORKER_METRICS_PORT: String(metricsPort),
      API_METRICS_PORT: String(apiMetricsPort),
    });
    stack = spawnProcess('npm', ['start'], env, ROOT);

    for (const { step, line, withinMs } of START_STEPS) {
      await stack.waitForLine(line, withinMs).catch((err: unknown) => {
        throw new Error(`npm start: step "${step}" not done within ${withinMs / 1000} s; ${err instanceof Error ? err.message : String(err)}`);
      });
    }
    const [, key] = await stack.waitForLine(/admin API key\s+(\S+)/, 1000);
    const admin = createHttp(`http://127.0.0.1:${apiPort}`, key);
    expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);
    expect((await admin.get('/readyz')).body).toMatchObject({ status: 'ready' });
    // start.sh built the dashboard when it was missing; the API serves it on its own port.
    const page = await fetch(`http://127.0.0.1:${apiPort}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<script type="module"[^>]+src="\/ui\/assets\//);

    expect((await admin.post('/v1/apps', { id: 'com.example.npmstart', name: 'npm start' })).status).toBe(201);
    expect((await admin.post('/v1/apps/com.example.npmstart/bundles', bundleBody('2.0.0'))).status).toBe(201);
    const release = await admin.post('/v1/apps/com.example.npmstart/releases', {
      version: '2.0.0',
      plan: { stages: [{ exposureBps: 10_000, minSoakMs: 200, checkIntervalMs: 100, gates: [] }] },
    });
    expect(release.status).toBe(201);

    // What a user with curl does: ask until the release is done.
    await waitFor(
      `release ${release.body.id} to complete`,
      async () => (await admin.get(`/v1/releases/${release.body.id}`)).body as { status: string },
      (details) => details.status === 'completed',
      { timeoutMs: 60_000, everyMs: 200 },
    );
    const check = await admin.post('/v1/apps/com.example.npmstart/check', {
      deviceId: 'device-1',
      platform: 'android',
      nativeVersion: '1.0.0',
      bundleVersion: 'builtin',
    });
    expect(check.body).toMatchObject({ action: 'update', bundle: { version: '2.0.0' } });

    // Ctrl-C in a terminal signals the whole foreground process group.
    process.kill(-stack.child.pid!, 'SIGINT');
    const exit = await stack.exited;
    // npm re-raises the interrupt on itself once its script has exited.
    expect(exit.code === 0 || exit.signal === 'SIGINT').toBe(true);
    expect(stack.output.join('\n')).toMatch(/stopped api[\s\S]*stopped worker[\s\S]*stopped Temporal dev server[\s\S]*stopped PostgreSQL/);
    await expect(fetch(`http://127.0.0.1:${apiPort}/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${uiPort}/`)).rejects.toThrow();
  }, START_BUDGET_MS + 90_000);
});
