import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool, type Pool } from '../../db/create-pool';

const ADMIN_SHUTDOWN = '57P01';

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** A migrated database of its own for one test file, cloned from the run's template in milliseconds. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const env = inject('testEnv');
  const name = `${env.databasePrefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: env.postgresUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(env.templateDatabase)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(env.postgresUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), 10);
  // Dropping the database at teardown terminates connections still closing; that is expected there.
  pool.on('error', (err: Error & { code?: string }) => {
    if (err.code !== ADMIN_SHUTDOWN) throw err;
  });
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: env.postgresUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`).finally(() => client.end());
    },
  };
}
