-- Webhook deliveries leave the rollout workflow's critical path: the activity that records a
-- transition writes one row per receiver in the same transaction, and the worker drains the rows
-- (retries with backoff until give_up_at). Rows survive continue-as-new and worker restarts.
CREATE TABLE IF NOT EXISTS webhook_outbox (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  idempotency_key TEXT NOT NULL,
  webhook_id      TEXT NOT NULL REFERENCES webhooks (id),
  app_id          TEXT NOT NULL,
  event           TEXT NOT NULL,
  payload         JSONB NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  -- Also the lease of a claimed row: a drainer that dies mid-delivery leaves it due again later.
  next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  give_up_at      TIMESTAMPTZ NOT NULL,
  last_error      TEXT,
  -- delivered, rejected (a 4xx retrying cannot fix), expired (give_up_at passed), dropped (webhook deleted)
  outcome         TEXT,
  finished_at     TIMESTAMPTZ,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (idempotency_key, webhook_id)
);
CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE finished_at IS NULL;
