import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, withTransaction, type Pool } from '../../db/create-pool';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe(createPool.name, () => {
  let db: TestDatabase;
  let pool: Pool;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url, 2);
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('survives a connection lost while a transaction holds it between queries, and fails only that transaction', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const transaction = withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // Between two queries, as when a transaction awaits other work: the server ends the session
        // (and this waits until it has).
        await db.pool.query('SELECT pg_terminate_backend($1, 10000)', [rows[0]!.pid]);
        await client.query('SELECT 1');
      });
      await expect(transaction).rejects.toThrow();
      expect(uncaught).toEqual([]);
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
