import type { Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../db/create-pool';
import { ensureDatabase } from '../db/ensure-database';
import { migrate } from '../db/migrate';
import { ConfigError, loadApiConfig, requireSecretsKey } from '../platform/config';
import { createLogger } from '../platform/logger';
import { startOpsServer } from '../platform/ops-server';
import { temporalConnectionOptions } from '../platform/temporal-connection';
import { createApi } from './create-api';
import { createHttpServer } from './http/create-http-server';

async function main(): Promise<void> {
  // A request's objects die young, but V8 decides per allocation site to allocate in the old generation
  // once a scavenge finds most of a site's objects alive (the event loop stalled with requests queued,
  // a burst) and holds to it: every later request's objects from there wait for a mark-compact, and
  // checks for its pauses (BENCHMARKS.md, "What survived a scavenge"). Set before the app allocates.
  setFlagsFromString('--no-allocation-site-pretenuring');
  const config = loadApiConfig(process.env);
  const secretsKey = requireSecretsKey(config);
  const logger = createLogger('rampart-api', config.logLevel);

  await ensureDatabase(config.databaseUrl);
  const pool = createPool(config.databaseUrl, config.databasePoolMax, config.databaseTimeouts);
  pool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL client failed'));
  await migrate(pool, logger);

  // Lazy: device checks never need Temporal, so the API serves them even while Temporal is down.
  const connection = Connection.lazy(temporalConnectionOptions(config.temporal));
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const api = createApi({
    pool,
    databaseUrl: config.databaseUrl,
    temporal,
    taskQueue: config.temporal.taskQueue,
    logger,
    tuning: config.tuning,
    secretsKey,
  });

  const { generatedKey } = await api.deps.apiKeys.bootstrap(config.adminKey);
  if (generatedKey) {
    process.stdout.write(
      `\nGenerated the bootstrap admin API key (shown only this once; set RAMPART_ADMIN_KEY to choose your own):\n\n  ${generatedKey}\n\n`,
    );
  }
  await api.start();

  const server: Server = createHttpServer(api.app).listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  // Metrics name routes, apps and volumes: an operator's view, never the public API port's.
  const opsServer = await startOpsServer({
    registry: api.deps.registry,
    isReady: () => api.deps.snapshot.isLoaded(),
    dependencies: { postgres: () => api.deps.database.isReachable(), temporal: () => api.deps.rollouts.isHealthy() },
    host: config.metricsHost,
    port: config.metricsPort,
  });
  logger.info({ port: config.port, host: config.host, metricsPort: config.metricsPort, metricsHost: config.metricsHost, temporal: config.temporal.address }, 'api listening');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'api stopping');
    opsServer.close();
    api.closeStreams();
    server.close(() => {
      void (async () => {
        await api.stop();
        await connection.close();
        await pool.end();
        logger.info('api stopped');
        process.exit(0);
      })();
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`rampart-api: ${message}\n`);
  process.exit(1);
});
