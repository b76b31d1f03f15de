import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import pg from 'pg';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { createPool } from '../../db/create-pool';
import { migrate } from '../../db/migrate';
import { findTemporalCli, freePort, SHORT_HISTORY_CONTINUE_AS_NEW, startTemporalDevServer, type DevServer } from '../../platform/temporal-dev-server';
import { WORKFLOWS_PATH } from '../../worker/create-worker';
import { ensureUiBuilt } from './ui-build';

const ROOT = path.resolve(__dirname, '../..');
const DATA = path.join(ROOT, '.data');
const PREFIX = `rampart_test_${process.pid}`;
const TEMPLATE = `${PREFIX}_template`;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/;

/** Fails with what to do, instead of a connection error buried in the first test. */
async function checkPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${url} (${(err as Error).message}).\n` +
        `Start it (on Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), ` +
        `or point TEST_POSTGRES_URL at a server where the user may create databases.`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function createTemplate(serverUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    // Databases left by earlier runs that died before cleaning up; their names carry the run's pid.
    const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'rampart\\_test\\_%'");
    for (const { datname } of rows) {
      const pid = Number(/^rampart_test_(\d+)_/.exec(datname)?.[1]);
      if (pid && !isAlive(pid)) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
    }
    await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${TEMPLATE}`;
  const pool = createPool(url.toString(), 1);
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await mkdir(DATA, { recursive: true });
  const postgresUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  await checkPostgres(postgresUrl);
  await createTemplate(postgresUrl);

  let server: DevServer | null = null;
  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  if (temporalAddress) {
    if (!LOOPBACK.test(temporalAddress) && process.env.RAMPART_TEST_ALLOW_REMOTE_TEMPORAL !== '1') {
      throw new Error(
        `TEMPORAL_ADDRESS=${temporalAddress} is not a loopback address; tests start and terminate workflows, so they refuse ` +
          `to run against a shared cluster. Unset it to let the tests start their own dev server, or set RAMPART_TEST_ALLOW_REMOTE_TEMPORAL=1.`,
      );
    }
  } else {
    server = await startTemporalDevServer({
      cliPath: await findTemporalCli(),
      port: await freePort(),
      logFile: path.join(DATA, 'temporal-test.log'),
      suggestContinueAsNewAfter: SHORT_HISTORY_CONTINUE_AS_NEW,
    });
    temporalAddress = server.address;
  }

  // Once, before any test file: the dashboard's browser test and `npm start` must not build it side by side.
  await ensureUiBuilt();
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
  const workflowBundlePath = path.join(DATA, `test-workflow-bundle-${process.pid}.js`);
  await writeFile(workflowBundlePath, code);

  project.provide('testEnv', { postgresUrl, templateDatabase: TEMPLATE, databasePrefix: PREFIX, temporalAddress, workflowBundlePath });

  return async () => {
    await server?.stop();
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [PREFIX]);
      for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    await rm(workflowBundlePath, { force: true });
  };
}
