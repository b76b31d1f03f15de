import type { Queryable } from '../create-pool';

export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  reason: string | null;
  details?: Record<string, unknown>;
}

export interface AuditStore {
  record(entry: AuditEntry): Promise<void>;
  /** Records the entry unless one with the same key exists (retried activities); true when it wrote it. */
  recordOnce(entry: AuditEntry, idempotencyKey: string): Promise<boolean>;
}

export function createAuditStore(db: Queryable): AuditStore {
  return {
    async record(e) {
      await db.query('INSERT INTO audit_log (actor, action, target, reason, details) VALUES ($1, $2, $3, $4, $5)', [
        e.actor,
        e.action,
        e.target,
        e.reason,
        JSON.stringify(e.details ?? {}),
      ]);
    },
    async recordOnce(e, key) {
      const { rowCount } = await db.query(
        `INSERT INTO audit_log (actor, action, target, reason, details, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
        [e.actor, e.action, e.target, e.reason, JSON.stringify(e.details ?? {}), key],
      );
      return rowCount === 1;
    },
  };
}
