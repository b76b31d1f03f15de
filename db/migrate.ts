import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../platform/logger';
import type { Pool } from './create-pool';

export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

// Any constant shared by every Rampart process; serialises concurrent start-ups.
const MIGRATION_LOCK_KEY = 0x52414d50;

export interface MigrationResult {
  applied: string[];
}

/** Thrown when a migration that already ran was edited afterwards: fix forward with a new file. */
export class MigrationChecksumError extends Error {
  constructor(readonly file: string) {
    super(`migration ${file} changed after it was applied; never edit a landed migration, add a new one`);
    this.name = 'MigrationChecksumError';
  }
}

/**
 * Applies the forward-only SQL migrations in file-name order, each in its own transaction. Safe when
 * several processes start at once: a session-level advisory lock lets one of them migrate while the
 * others wait and then find nothing left to do.
 */
export async function migrate(pool: Pool, logger?: Logger, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    // Waiting for another process's migrations, and a migration itself, may outlast the pool's statement timeout.
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name       TEXT PRIMARY KEY,
      checksum   TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ name: string; checksum: string }>(
      'SELECT sm.name, sm.checksum FROM schema_migrations sm',
    );
    const done = new Map(rows.map((r) => [r.name, r.checksum]));
    for (const file of files) {
      const sql = await readFile(path.join(dir, file), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const previous = done.get(file);
      if (previous !== undefined) {
        if (previous !== checksum) throw new MigrationChecksumError(file);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [file, checksum]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(file);
      logger?.info({ migration: file }, 'applied migration');
    }
    const unknown = [...done.keys()].filter((name) => !files.includes(name));
    if (unknown.length > 0) logger?.warn({ unknown }, 'database has migrations this build does not know; is an older version running?');
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.query('RESET statement_timeout').catch(() => undefined);
    client.release();
  }
  return { applied };
}
