import pg from 'pg';

const DUPLICATE_DATABASE = '42P04';

/** The database a URL names, and a client on the server's maintenance database to create it with. */
async function maintenanceClient(databaseUrl: string): Promise<{ name: string; client: pg.Client }> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL names no database: ${databaseUrl}`);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return { name, client };
}

/** Creates the database named in the URL when it does not exist yet (the server must be up). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const { name, client } = await maintenanceClient(databaseUrl);
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`).catch((err: { code?: string }) => {
        if (err.code !== DUPLICATE_DATABASE) throw err;
      });
    }
  } finally {
    await client.end();
  }
}

/** Drops the database named in the URL (disconnecting its clients) and creates it empty: benchmarks and scripts start clean. */
export async function recreateDatabase(databaseUrl: string): Promise<void> {
  const { name, client } = await maintenanceClient(databaseUrl);
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}
