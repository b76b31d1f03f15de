import { existsSync, readFileSync } from 'node:fs';
import type { Queryable } from '../db/create-pool';

/**
 * CPU time (ms) used so far by each client backend of the current database (only those of
 * `applicationName` when given), read from /proc; null where PostgreSQL is not local.
 */
export async function backendCpuMs(db: Queryable, applicationName?: string): Promise<Map<number, number> | null> {
  const { rows } = await db.query<{ pid: number }>(
    "SELECT a.pid FROM pg_stat_activity a WHERE a.datname = current_database() AND a.backend_type = 'client backend' AND ($1::text IS NULL OR a.application_name = $1)",
    [applicationName ?? null],
  );
  const used = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = processCpuMs(pid);
    if (ms === null) return null;
    used.set(pid, ms);
  }
  return used;
}

/** CPU time (ms) a local process has used so far, from /proc; null where there is none. */
export function processCpuMs(pid: number): number | null {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return null;
  // utime and stime, in clock ticks (100 per second), after the process name.
  const fields = readFileSync(stat, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
