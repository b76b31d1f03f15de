CREATE TABLE IF NOT EXISTS channels (
  app_id            TEXT NOT NULL REFERENCES apps (id),
  name              TEXT NOT NULL,
  -- The default channel of its platforms for devices that name none (or one they may not use).
  public            BOOLEAN NOT NULL DEFAULT false,
  allow_self_assign BOOLEAN NOT NULL DEFAULT false,
  platforms         TEXT[] NOT NULL,
  -- CodePush clients name app and channel with this key.
  deployment_key    TEXT NOT NULL UNIQUE,
  created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, name)
);

-- Every app has a public production channel; apps created before channels existed get theirs here.
INSERT INTO channels (app_id, name, public, allow_self_assign, platforms, deployment_key)
SELECT a.id, 'production', true, false, ARRAY['ios', 'android', 'web', 'electron'], 'dk_' || replace(gen_random_uuid()::text, '-', '')
FROM apps a
ON CONFLICT (app_id, name) DO NOTHING;

CREATE TABLE IF NOT EXISTS segments (
  app_id              TEXT NOT NULL REFERENCES apps (id),
  key                 TEXT NOT NULL,
  rule                JSONB NOT NULL,
  priority            INTEGER NOT NULL,
  maintenance_windows JSONB NOT NULL DEFAULT '[]'::jsonb,
  created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, key)
);

-- A device put into a channel: by an admin (forced), or by the device itself where the channel allows it.
CREATE TABLE IF NOT EXISTS device_channel_overrides (
  app_id     TEXT NOT NULL REFERENCES apps (id),
  device_id  TEXT NOT NULL,
  channel    TEXT NOT NULL,
  source     TEXT NOT NULL CHECK (source IN ('admin', 'self')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, device_id),
  FOREIGN KEY (app_id, channel) REFERENCES channels (app_id, name)
);

-- Written behind the hot path, in batches.
CREATE TABLE IF NOT EXISTS devices (
  app_id         TEXT NOT NULL REFERENCES apps (id),
  device_id      TEXT NOT NULL,
  platform       TEXT,
  native_version TEXT,
  bundle_version TEXT,
  channel        TEXT,
  attributes     JSONB NOT NULL DEFAULT '{}'::jsonb,
  first_seen     TIMESTAMPTZ NOT NULL,
  last_seen      TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (app_id, device_id)
);
CREATE INDEX IF NOT EXISTS devices_last_seen ON devices (app_id, last_seen);

CREATE TABLE IF NOT EXISTS device_sessions_daily (
  app_id    TEXT NOT NULL,
  device_id TEXT NOT NULL,
  day       DATE NOT NULL,
  sessions  INTEGER NOT NULL,
  PRIMARY KEY (app_id, device_id, day)
);
