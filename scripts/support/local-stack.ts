import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Api } from '../../api/create-api';
import { createPool, type Pool } from '../../db/create-pool';
import { ensureDatabase, recreateDatabase } from '../../db/ensure-database';
import { migrate } from '../../db/migrate';
import { DEFAULT_DATABASE_URL } from '../../platform/config';
import type { Logger } from '../../platform/logger';
import { findTemporalCli, freePort, startTemporalDevServer, type DevServer } from '../../platform/temporal-dev-server';
import { startInProcessStack } from './in-process-stack';

const ROOT = path.resolve(__dirname, '../..');

export interface LocalStack {
  baseUrl: string;
  adminKey: string;
  api: Api;
  temporal: Client;
  /** The stack's own database, for scripts that seed it directly. */
  pool: Pool;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  database: string;
  logger: Logger;
  suggestContinueAsNewAfter?: number;
  /**
   * Keep the database and the Temporal server's state (in .data/) from the last run with this name
   * instead of starting empty: for a benchmark whose seeding takes far longer than its measuring.
   */
  keep?: boolean;
  /** With `keep`: drop what the last run kept and start empty, keeping this run's state for the next. */
  startOver?: boolean;
}

/**
 * The whole service in this process for scripts (fleet simulation, history recording): a fresh
 * database on the local PostgreSQL, a Temporal dev server of its own (unless TEMPORAL_ADDRESS is
 * set), the worker and the API on an ephemeral port.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const databaseUrl = new URL(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
  databaseUrl.pathname = `/${options.database}`;
  const temporalState = path.join(ROOT, `.data/temporal-${options.database}.sqlite`);
  if (options.keep && options.startOver) await rm(temporalState, { force: true });
  await (options.keep && !options.startOver ? ensureDatabase : recreateDatabase)(databaseUrl.toString());
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
      ...(options.keep ? { dbFilename: temporalState } : {}),
      ...(options.suggestContinueAsNewAfter ? { suggestContinueAsNewAfter: options.suggestContinueAsNewAfter } : {}),
    });
    address = server.address;
  }
  const stack = await startInProcessStack({
    pool,
    databaseUrl: databaseUrl.toString(),
    temporalAddress: address,
    taskQueue: `local-${options.database}`,
    adminKey: `local-admin-${options.database}-key`,
    logger: options.logger,
    metricsPrefix: 'local',
    // A kept database holds secrets sealed by the last run: the key must outlive the process.
    ...(options.keep ? { secretsKey: createHash('sha256').update(`rampart-local-stack:${options.database}`).digest() } : {}),
  });
  return {
    baseUrl: stack.baseUrl,
    adminKey: stack.adminKey,
    api: stack.api,
    temporal: stack.temporal,
    pool,
    async stop() {
      await stack.stop();
      await server?.stop();
      await pool.end();
    },
  };
}
