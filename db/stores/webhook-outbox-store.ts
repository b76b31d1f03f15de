import type { SecretBox } from '../../platform/secret-box';
import type { Queryable } from '../create-pool';
import type { Webhook } from './webhook-store';

/** One delivery of one transition to one receiver, as the drainer claims it. */
export interface OutboxDelivery {
  id: number;
  idempotencyKey: string;
  appId: string;
  event: string;
  payload: unknown;
  /** Attempts so far, this one included. */
  attempts: number;
  giveUpAt: number;
  /** Null when the webhook was deleted since the transition was recorded. */
  webhook: Webhook | null;
}

export interface NewOutboxDelivery {
  idempotencyKey: string;
  webhookId: string;
  appId: string;
  event: string;
  payload: unknown;
  giveUpAt: number;
  /** Not sent before this (epoch ms): a segment notification waits for the end of quiet hours. */
  notBefore?: number;
}

export type OutboxOutcome = 'delivered' | 'rejected' | 'expired' | 'dropped';

export interface WebhookOutboxStore {
  /** Idempotent per (key, webhook): a retried activity enqueues nothing twice. Returns rows added. */
  enqueue(deliveries: NewOutboxDelivery[]): Promise<number>;
  /**
   * Claims up to `limit` due deliveries for `leaseMs` (they become due again if this process dies
   * before finishing them); concurrent drainers never claim the same row.
   */
  claim(limit: number, leaseMs: number): Promise<OutboxDelivery[]>;
  finish(id: number, outcome: OutboxOutcome, error: string | null): Promise<void>;
  retryLater(id: number, delayMs: number, error: string): Promise<void>;
  /** Deliveries not finished yet (metrics, tests). */
  countPending(): Promise<number>;
}

interface ClaimedRow {
  id: number;
  idempotency_key: string;
  app_id: string;
  event: string;
  payload: unknown;
  attempts: number;
  give_up_at: Date;
  w_id: string;
  w_url: string;
  w_secret: string;
  w_events: string[];
  w_created_at: Date;
  w_deleted: boolean;
}

export function createWebhookOutboxStore(db: Queryable, box: SecretBox): WebhookOutboxStore {
  const mapRow = (row: ClaimedRow): OutboxDelivery => ({
    id: row.id,
    idempotencyKey: row.idempotency_key,
    appId: row.app_id,
    event: row.event,
    payload: row.payload,
    attempts: row.attempts,
    giveUpAt: row.give_up_at.getTime(),
    webhook: row.w_deleted
      ? null
      : { id: row.w_id, appId: row.app_id, url: box.open(row.w_url), secret: box.open(row.w_secret), events: row.w_events, createdAt: row.w_created_at.toISOString() },
  });
  return {
    async enqueue(deliveries) {
      if (deliveries.length === 0) return 0;
      const { rowCount } = await db.query(
        `INSERT INTO webhook_outbox (idempotency_key, webhook_id, app_id, event, payload, give_up_at, next_attempt_at)
         SELECT d.key, d.webhook_id, d.app_id, d.event, d.payload, d.give_up_at, COALESCE(d.not_before, now())
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::timestamptz[])
                AS d (key, webhook_id, app_id, event, payload, give_up_at, not_before)
         ON CONFLICT (idempotency_key, webhook_id) DO NOTHING`,
        [
          deliveries.map((d) => d.idempotencyKey),
          deliveries.map((d) => d.webhookId),
          deliveries.map((d) => d.appId),
          deliveries.map((d) => d.event),
          deliveries.map((d) => JSON.stringify(d.payload)),
          deliveries.map((d) => new Date(d.giveUpAt)),
          deliveries.map((d) => (d.notBefore === undefined ? null : new Date(d.notBefore))),
        ],
      );
      return rowCount ?? 0;
    },
    async claim(limit, leaseMs) {
      const { rows } = await db.query<ClaimedRow>(
        `WITH due AS (
           SELECT o.id FROM webhook_outbox o
            WHERE o.finished_at IS NULL AND o.next_attempt_at <= now()
            ORDER BY o.next_attempt_at, o.id
            LIMIT $1 FOR UPDATE SKIP LOCKED
         ), claimed AS (
           UPDATE webhook_outbox o SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
             FROM due WHERE o.id = due.id
           RETURNING o.id, o.idempotency_key, o.app_id, o.event, o.payload, o.attempts, o.give_up_at, o.webhook_id
         )
         SELECT c.id, c.idempotency_key, c.app_id, c.event, c.payload, c.attempts, c.give_up_at,
                w.id AS w_id, w.url AS w_url, w.secret AS w_secret, w.events AS w_events, w.created_at AS w_created_at,
                (w.deleted_at IS NOT NULL) AS w_deleted
           FROM claimed c JOIN webhooks w ON w.id = c.webhook_id
          ORDER BY c.id`,
        [limit, leaseMs],
      );
      return rows.map(mapRow);
    },
    async finish(id, outcome, error) {
      await db.query('UPDATE webhook_outbox SET outcome = $2, last_error = $3, finished_at = now() WHERE id = $1 AND finished_at IS NULL', [id, outcome, error]);
    },
    async retryLater(id, delayMs, error) {
      await db.query(
        'UPDATE webhook_outbox SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000), last_error = $3 WHERE id = $1 AND finished_at IS NULL',
        [id, delayMs, error],
      );
    },
    async countPending() {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_outbox o WHERE o.finished_at IS NULL');
      return rows[0]?.n ?? 0;
    },
  };
}
