import type { SecretBox } from '../../platform/secret-box';
import type { Queryable } from '../create-pool';

export interface Webhook {
  id: string;
  appId: string;
  url: string;
  secret: string;
  /** Empty: every event. */
  events: string[];
  createdAt: string;
}

interface WebhookRow {
  id: string;
  app_id: string;
  url: string;
  secret: string;
  events: string[];
  created_at: Date;
}

const COLUMNS = 'w.id, w.app_id, w.url, w.secret, w.events, w.created_at';


export interface WebhookStore {
  insert(webhook: Omit<Webhook, 'createdAt'>): Promise<Webhook>;
  listForApp(appId: string): Promise<Webhook[]>;
  /** Returns false when there was no such webhook of the app. */
  remove(appId: string, id: string): Promise<boolean>;
  /** Webhook ids that already got this delivery (a retried notification skips them). */
  deliveredTo(idempotencyKey: string): Promise<Set<string>>;
  recordDelivery(idempotencyKey: string, webhookId: string, status: number): Promise<void>;
  /** Seals URLs and secrets stored in the clear before sealing existed; returns how many rows it rewrote. */
  sealPlaintextRows(): Promise<number>;
}

/** URL and secret are credentials: sealed in the row, opened only here. */
export function createWebhookStore(db: Queryable, box: SecretBox): WebhookStore {
  const mapRow = (row: WebhookRow): Webhook => ({
    id: row.id,
    appId: row.app_id,
    url: box.open(row.url),
    secret: box.open(row.secret),
    events: row.events,
    createdAt: row.created_at.toISOString(),
  });
  return {
    async insert(w) {
      const { rows } = await db.query<WebhookRow>(
        `INSERT INTO webhooks AS w (id, app_id, url, secret, events) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [w.id, w.appId, box.seal(w.url), box.seal(w.secret), w.events],
      );
      return mapRow(rows[0]!);
    },
    async listForApp(appId) {
      const { rows } = await db.query<WebhookRow>(`SELECT ${COLUMNS} FROM webhooks w WHERE w.app_id = $1 AND w.deleted_at IS NULL ORDER BY w.created_at`, [appId]);
      return rows.map(mapRow);
    },
    async remove(appId, id) {
      const { rowCount } = await db.query('UPDATE webhooks SET deleted_at = now() WHERE app_id = $1 AND id = $2 AND deleted_at IS NULL', [appId, id]);
      return rowCount === 1;
    },
    async deliveredTo(key) {
      const { rows } = await db.query<{ webhook_id: string }>('SELECT d.webhook_id FROM webhook_deliveries d WHERE d.idempotency_key = $1', [key]);
      return new Set(rows.map((r) => r.webhook_id));
    },
    async recordDelivery(key, webhookId, status) {
      await db.query(
        `INSERT INTO webhook_deliveries (idempotency_key, webhook_id, status) VALUES ($1, $2, $3)
         ON CONFLICT (idempotency_key, webhook_id) DO UPDATE SET status = EXCLUDED.status, attempts = webhook_deliveries.attempts + 1, delivered_at = now()`,
        [key, webhookId, status],
      );
    },
    async sealPlaintextRows() {
      const { rows } = await db.query<{ id: string; url: string; secret: string }>(
        "SELECT w.id, w.url, w.secret FROM webhooks w WHERE w.url NOT LIKE 'enc:%' OR w.secret NOT LIKE 'enc:%'",
      );
      for (const row of rows) {
        const seal = (value: string) => (box.isSealed(value) ? value : box.seal(value));
        // Guarded by the old values, so two processes sealing at once do not both write.
        await db.query('UPDATE webhooks SET url = $2, secret = $3 WHERE id = $1 AND url = $4 AND secret = $5', [row.id, seal(row.url), seal(row.secret), row.url, row.secret]);
      }
      return rows.length;
    },
  };
}
