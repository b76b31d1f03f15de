import { createPool } from '../db/create-pool';
import { ensureDatabase } from '../db/ensure-database';
import { migrate } from '../db/migrate';
import { DEFAULT_DATABASE_URL } from '../platform/config';
import { createLogger } from '../platform/logger';

/** `npm run migrate`: apply pending migrations to DATABASE_URL (the API and worker also do this at start). */
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const logger = createLogger('rampart-migrate');
  await ensureDatabase(url);
  const pool = createPool(url, 1);
  try {
    const { applied } = await migrate(pool, logger);
    process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n');
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
