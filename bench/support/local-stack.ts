import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pg from 'pg';
import { createApi, type Api } from '../../api/create-api';
import { createPool, type Pool } from '../../db/create-pool';
import { migrate } from '../../db/migrate';
import { DEFAULT_DATABASE_URL } from '../../platform/config';
import type { Logger } from '../../platform/logger';
import { createRegistry } from '../../platform/metrics';
import { findTemporalCli, freePort, startTemporalDevServer, type DevServer } from '../../platform/temporal-dev-server';
import { installTemporalRuntime } from '../../platform/temporal-runtime';
import { createWorker, createWorkerActivities } from '../../worker/create-worker';

const ROOT = path.resolve(__dirname, '../..');

export interface LocalStack {
  baseUrl: string;
  adminKey: string;
  api: Api;
  pool: Pool;
  temporal: Client;
  stop(): Promise<void>;
}

/**
 * The whole service in this process for scripts (fleet simulation, history recording): a fresh
 * database on the local PostgreSQL, a Temporal dev server of its own (unless TEMPORAL_ADDRESS is
 * set), the worker and the API on an ephemeral port.
 */
export async function startLocalStack(options: { database: string; logger: Logger; suggestContinueAsNewAfter?: number }): Promise<LocalStack> {
  installTemporalRuntime(options.logger);
  const serverUrl = new URL(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
  serverUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: serverUrl.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(options.database)} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(options.database)}`);
  await admin.end();
  const databaseUrl = new URL(serverUrl);
  databaseUrl.pathname = `/${options.database}`;
  const pool = createPool(databaseUrl.toString(), 20);
  pool.on('error', (err) => options.logger.error({ err }, 'idle PostgreSQL client failed'));
  await migrate(pool);

  let server: DevServer | null = null;
  let address = process.env.TEMPORAL_ADDRESS;
  if (!address) {
    server = await startTemporalDevServer({
      cliPath: await findTemporalCli(),
      port: await freePort(),
      logFile: path.join(ROOT, `.data/temporal-${options.database}.log`),
      extraArgs: options.suggestContinueAsNewAfter
        ? ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${options.suggestContinueAsNewAfter}`]
        : [],
    });
    address = server.address;
  }
  const connection = await Connection.connect({ address });
  const temporal = new Client({ connection });
  const taskQueue = `local-${options.database}`;
  const api = createApi({
    pool,
    databaseUrl: databaseUrl.toString(),
    temporal,
    taskQueue,
    logger: options.logger,
    snapshotReconcileMs: 60_000,
    registry: createRegistry('local', false),
  });
  const adminKey = `local-admin-${options.database}-key`;
  await api.deps.apiKeys.bootstrap(adminKey);
  await api.start();
  const http: Server = await new Promise((resolve) => {
    const s = api.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const nativeConnection = await NativeConnection.connect({ address });
  const worker: Worker = await createWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    activities: createWorkerActivities(pool, options.logger, createRegistry('local_worker', false), 2000),
  });
  const running = worker.run();

  return {
    baseUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    adminKey,
    api,
    pool,
    temporal,
    async stop() {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await api.stop();
      await connection.close();
      await server?.stop();
      await pool.end();
    },
  };
}
