import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool, type Pool } from '../../db/create-pool';

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
