import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that runs a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

// BIGINT (int8) and NUMERIC arrive as strings by default; every BIGINT we store fits a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PoolTimeouts {
  /** Connecting, and waiting for a free pooled connection. */
  connectTimeoutMs: number;
  /** Enforced by the server (`statement_timeout`); the migration runner lifts it for its session. */
  statementTimeoutMs: number;
}

/** Without timeouts (tests, scripts) a call waits as long as PostgreSQL takes. */
export function createPool(databaseUrl: string, max = 10, timeouts?: PoolTimeouts): Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    application_name: 'rampart',
    // Notices a server that vanished without closing the connection (a dead host, a dropped route).
    keepAlive: true,
    ...(timeouts ? { connectionTimeoutMillis: timeouts.connectTimeoutMs, statement_timeout: timeouts.statementTimeoutMs } : {}),
  });
  // The pool listens for errors only on idle clients: a checked-out client between two queries
  // (a transaction awaiting other work) whose connection drops would emit an unhandled 'error' and
  // end the process. Its next query fails with the error instead, and the pool drops it on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    // A connection that cannot even roll back is broken: destroy it rather than pool it again.
    const broken = await client.query('ROLLBACK').then(
      () => false,
      () => true,
    );
    client.release(broken);
    throw err;
  }
}
