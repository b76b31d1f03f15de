import type { Queryable } from '../create-pool';

export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  reason: string | null;
  /** The app the change concerns, if any: the log is filtered and scoped by it. */
  appId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  appId: string | null;
  reason: string | null;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  /** null: every app's rows and those of no app; a list: only rows of those apps. */
  appIds: string[] | null;
  actor?: string | undefined;
  action?: string | undefined;
  target?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
}

interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  app_id: string | null;
  reason: string | null;
  details: Record<string, unknown>;
}

export interface AuditStore {
  record(entry: AuditEntry): Promise<void>;
  /** Records the entry unless one with the same key exists (retried activities); true when it wrote it. */
  recordOnce(entry: AuditEntry, idempotencyKey: string): Promise<boolean>;
  /** Newest first. */
  search(query: AuditQuery): Promise<AuditRecord[]>;
}

function values(e: AuditEntry): unknown[] {
  return [e.actor, e.action, e.target, e.reason, JSON.stringify(e.details ?? {}), e.appId ?? null];
}

export function createAuditStore(db: Queryable): AuditStore {
  return {
    async record(e) {
      await db.query('INSERT INTO audit_log (actor, action, target, reason, details, app_id) VALUES ($1, $2, $3, $4, $5, $6)', values(e));
    },
    async recordOnce(e, key) {
      const { rowCount } = await db.query(
        `INSERT INTO audit_log (actor, action, target, reason, details, app_id, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
        [...values(e), key],
      );
      return rowCount === 1;
    },
    async search(q) {
      // A null parameter switches its filter off, so one statement serves every combination.
      const { rows } = await db.query<AuditRow>(
        `SELECT a.id, a.at, a.actor, a.action, a.target, a.app_id, a.reason, a.details
           FROM audit_log a
          WHERE ($1::text[] IS NULL OR a.app_id = ANY($1::text[]))
            AND ($2::text IS NULL OR a.actor = $2)
            AND ($3::text IS NULL OR a.action = $3)
            AND ($4::text IS NULL OR a.target = $4)
            AND ($5::timestamptz IS NULL OR a.at >= $5)
            AND ($6::timestamptz IS NULL OR a.at <= $6)
          ORDER BY a.at DESC, a.id DESC
          LIMIT $7`,
        [q.appIds, q.actor ?? null, q.action ?? null, q.target ?? null, q.from ?? null, q.to ?? null, q.limit],
      );
      return rows.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        actor: r.actor,
        action: r.action,
        target: r.target,
        appId: r.app_id,
        reason: r.reason,
        details: r.details,
      }));
    },
  };
}
