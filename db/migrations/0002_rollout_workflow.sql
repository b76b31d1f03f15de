-- Telemetry is counted in windows of this size (ms) for the release's gates.
ALTER TABLE releases ADD COLUMN IF NOT EXISTS window_ms INTEGER NOT NULL DEFAULT 60000;

-- Transitions recorded by the workflow carry a key, so a retried activity never writes one twice.
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS idempotency_key TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS audit_log_idempotency ON audit_log (idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE IF NOT EXISTS webhooks (
  id         TEXT PRIMARY KEY,
  app_id     TEXT NOT NULL REFERENCES apps (id),
  url        TEXT NOT NULL,
  secret     TEXT NOT NULL,
  -- Empty: every event.
  events     TEXT[] NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS webhooks_by_app ON webhooks (app_id) WHERE deleted_at IS NULL;

CREATE TABLE IF NOT EXISTS webhook_deliveries (
  idempotency_key TEXT NOT NULL,
  webhook_id      TEXT NOT NULL REFERENCES webhooks (id),
  status          INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 1,
  delivered_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (idempotency_key, webhook_id)
);

-- Raw device events, kept for a bounded time (see the retention job).
CREATE TABLE IF NOT EXISTS device_events (
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  app_id         TEXT NOT NULL,
  device_id      TEXT NOT NULL,
  release_id     TEXT,
  segment        TEXT NOT NULL,
  cohort         TEXT NOT NULL CHECK (cohort IN ('canary', 'control', 'none')),
  type           TEXT NOT NULL,
  bundle_version TEXT NOT NULL,
  occurred_at    TIMESTAMPTZ NOT NULL,
  received_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  details        JSONB
);
CREATE INDEX IF NOT EXISTS device_events_received ON device_events (received_at);
CREATE INDEX IF NOT EXISTS device_events_by_release ON device_events (release_id, received_at) WHERE release_id IS NOT NULL;

-- One row per release × counting window × device × (on its cohort's bundle or not): the unit of the
-- gates is the device-window, and `metrics` has a bit per gate metric seen at least once in it.
CREATE TABLE IF NOT EXISTS release_device_windows (
  release_id       TEXT NOT NULL,
  window_start     TIMESTAMPTZ NOT NULL,
  device_id        TEXT NOT NULL,
  on_cohort_bundle BOOLEAN NOT NULL,
  segment          TEXT NOT NULL,
  slice            TEXT NOT NULL CHECK (slice IN ('canary', 'control')),
  metrics          INTEGER NOT NULL DEFAULT 0,
  events           INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (release_id, window_start, device_id, on_cohort_bundle)
);
