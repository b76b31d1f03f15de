CREATE TABLE IF NOT EXISTS apps (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  settings    JSONB NOT NULL DEFAULT '{}'::jsonb,
  signing_key TEXT NOT NULL,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS bundles (
  app_id       TEXT NOT NULL REFERENCES apps (id),
  version      TEXT NOT NULL,
  url          TEXT NOT NULL,
  sha256       TEXT NOT NULL,
  size         BIGINT NOT NULL,
  platforms    TEXT[] NOT NULL,
  native_range TEXT NOT NULL DEFAULT '*',
  session_key  TEXT,
  notes        TEXT,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, version)
);

CREATE TABLE IF NOT EXISTS releases (
  id               TEXT PRIMARY KEY,
  app_id           TEXT NOT NULL REFERENCES apps (id),
  channel          TEXT NOT NULL,
  version          TEXT NOT NULL,
  baseline_version TEXT,
  bucket_salt      TEXT NOT NULL,
  plan             JSONB NOT NULL,
  status           TEXT NOT NULL,
  workflow_id      TEXT NOT NULL UNIQUE,
  created_by       TEXT NOT NULL,
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  FOREIGN KEY (app_id, version) REFERENCES bundles (app_id, version),
  FOREIGN KEY (app_id, baseline_version) REFERENCES bundles (app_id, version)
);

-- At most one release per app and channel may be in flight; the database enforces it.
CREATE UNIQUE INDEX IF NOT EXISTS releases_one_active_per_channel
  ON releases (app_id, channel) WHERE status IN ('pending', 'running', 'paused');
CREATE INDEX IF NOT EXISTS releases_by_app ON releases (app_id, channel, created_at DESC);

-- The projection the workflows publish; written only by the publish activity.
CREATE TABLE IF NOT EXISTS rollout_state (
  release_id   TEXT PRIMARY KEY REFERENCES releases (id),
  app_id       TEXT NOT NULL REFERENCES apps (id),
  revision     BIGINT NOT NULL,
  status       TEXT NOT NULL,
  stage_index  INTEGER NOT NULL,
  exposure     JSONB NOT NULL,
  reason       TEXT,
  published_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rollout_state_by_app ON rollout_state (app_id);

CREATE TABLE IF NOT EXISTS api_keys (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  key_hash   TEXT NOT NULL UNIQUE,
  role       TEXT NOT NULL CHECK (role IN ('admin', 'release', 'oncall', 'viewer')),
  app_ids    TEXT[],
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  revoked_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS audit_log (
  id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  target  TEXT NOT NULL,
  reason  TEXT,
  details JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS audit_log_by_target ON audit_log (target, at);
