import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createPool } from '../../db/create-pool';
import { ensureDatabase } from '../../db/ensure-database';
import { migrate, MigrationChecksumError, MIGRATIONS_DIR } from '../../db/migrate';
import { ACTIVE_STATUSES } from '../../domain/release';

describe(migrate.name, () => {
  const env = inject('testEnv');
  const name = `${env.databasePrefix}_migrate_${randomBytes(3).toString('hex')}`;
  const url = new URL(env.postgresUrl);
  url.pathname = `/${name}`;

  beforeAll(async () => {
    await ensureDatabase(url.toString());
    await ensureDatabase(url.toString());
  });
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: env.postgresUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`).finally(() => admin.end());
  });

  it('applies each migration exactly once when several processes start at the same moment', async () => {
    const pools = Array.from({ length: 5 }, () => createPool(url.toString(), 2));
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool)));
      const applied = results.flatMap((r) => r.applied);
      expect(applied).toContain('0001_foundation.sql');
      expect(new Set(applied).size).toBe(applied.length);
      const { rows } = await pools[0]!.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      expect(rows.map((r) => r.name)).toEqual([...new Set(applied)].sort());
      expect((await migrate(pools[0]!)).applied).toEqual([]);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('refuses to run when a migration that already ran was edited, and rolls back a failing one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-migrations-'));
    const pool = createPool(url.toString(), 2);
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      await writeFile(path.join(dir, '9999_broken.sql'), 'CREATE TABLE half_done (id INT); SELECT no_such_function();');
      await expect(migrate(pool, undefined, dir)).rejects.toThrow(/9999_broken.sql failed/);
      const { rowCount } = await pool.query("SELECT 1 FROM pg_tables WHERE tablename = 'half_done'");
      expect(rowCount).toBe(0);

      await rm(path.join(dir, '9999_broken.sql'));
      await writeFile(path.join(dir, '0001_foundation.sql'), '-- edited after landing\n');
      await expect(migrate(pool, undefined, dir)).rejects.toBeInstanceOf(MigrationChecksumError);
    } finally {
      await pool.end();
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The one SQL spelling of the active statuses that cannot take them as a parameter.
  it('lets the database hold at most one release per channel in exactly the statuses the domain calls active', async () => {
    const pool = createPool(url.toString(), 1);
    try {
      await migrate(pool);
      const { rows } = await pool.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'releases_one_active_per_channel'");
      const listed = [...(rows[0]?.indexdef ?? '').matchAll(/'([a-z_]+)'::text/g)].map((m) => m[1]);
      expect(listed.sort()).toEqual([...ACTIVE_STATUSES].sort());
    } finally {
      await pool.end();
    }
  });
});
