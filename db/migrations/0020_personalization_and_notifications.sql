-- Personalized releases: a release may give some segments a bundle of their own instead of its
-- main one. Each mapping rides the plan's stages for its segment; the snapshot carries the mapping.
CREATE TABLE IF NOT EXISTS release_segment_bundles (
  release_id  TEXT NOT NULL REFERENCES releases (id),
  app_id      TEXT NOT NULL,
  segment_key TEXT NOT NULL,
  version     TEXT NOT NULL,
  PRIMARY KEY (release_id, segment_key),
  FOREIGN KEY (app_id, version) REFERENCES bundles (app_id, version)
);

-- A failing gate in a segment with its own bundle withdraws that bundle only: the published state
-- says which segments were withdrawn, so devices there are sent back while the others go on.
ALTER TABLE rollout_state ADD COLUMN IF NOT EXISTS withdrawn_segments TEXT[] NOT NULL DEFAULT '{}';

-- Quiet hours are judged in the device's time zone (reported by the native check), else the app's.
ALTER TABLE devices ADD COLUMN IF NOT EXISTS time_zone TEXT;
ALTER TABLE apps ADD COLUMN IF NOT EXISTS default_time_zone TEXT NOT NULL DEFAULT 'UTC';

-- What a release tells a segment's devices when a stage opens for them; quiet hours are local HH:MM.
CREATE TABLE IF NOT EXISTS release_notifications (
  release_id  TEXT NOT NULL REFERENCES releases (id),
  segment_key TEXT NOT NULL,
  message     JSONB NOT NULL,
  quiet_start TEXT,
  quiet_end   TEXT,
  PRIMARY KEY (release_id, segment_key)
);

-- One row per growth of a notified segment's exposure, written by the trigger below in the
-- transaction that publishes the exposure: the workflow is unchanged, and no growth is missed or
-- notified twice (a retried publish of the same revision writes nothing). The worker prepares each
-- row: finds the newly exposed devices and writes their deliveries.
CREATE TABLE IF NOT EXISTS segment_notifications (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  release_id      TEXT NOT NULL REFERENCES releases (id),
  app_id          TEXT NOT NULL,
  segment_key     TEXT NOT NULL,
  stage_index     INTEGER NOT NULL,
  from_bps        INTEGER NOT NULL,
  to_bps          INTEGER NOT NULL,
  revision        BIGINT NOT NULL,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- Also the lease of a claimed row, like webhook_outbox.
  next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,
  prepared_at     TIMESTAMPTZ,
  UNIQUE (release_id, segment_key, to_bps)
);
CREATE INDEX IF NOT EXISTS segment_notifications_due ON segment_notifications (next_attempt_at) WHERE prepared_at IS NULL;
CREATE INDEX IF NOT EXISTS segment_notifications_by_release ON segment_notifications (release_id);

-- One delivery per moment its devices may be told (quiet hours split a notification by time zone).
-- Its id is the idempotency key of its webhook_outbox rows, which record attempts and outcome.
CREATE TABLE IF NOT EXISTS segment_notification_deliveries (
  id               TEXT PRIMARY KEY,
  notification_id  BIGINT NOT NULL REFERENCES segment_notifications (id),
  release_id       TEXT NOT NULL,
  scheduled_for    TIMESTAMPTZ NOT NULL,
  device_count     INTEGER NOT NULL,
  -- Set when the devices are too many for the payload: the relay pages through them with the token.
  token_hash       TEXT UNIQUE,
  token_expires_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS segment_notification_deliveries_by_release ON segment_notification_deliveries (release_id);

CREATE TABLE IF NOT EXISTS segment_notification_devices (
  delivery_id TEXT NOT NULL REFERENCES segment_notification_deliveries (id),
  device_id   TEXT NOT NULL,
  PRIMARY KEY (delivery_id, device_id)
);

CREATE OR REPLACE FUNCTION enqueue_segment_notifications() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  previous jsonb := '{}'::jsonb;
BEGIN
  IF NEW.status NOT IN ('running', 'completed') THEN RETURN NULL; END IF;
  IF TG_OP = 'UPDATE' THEN previous := OLD.exposure; END IF;
  INSERT INTO segment_notifications (release_id, app_id, segment_key, stage_index, from_bps, to_bps, revision)
  SELECT NEW.release_id, NEW.app_id, n.segment_key, NEW.stage_index,
         COALESCE((previous ->> n.segment_key)::int, 0), (NEW.exposure ->> n.segment_key)::int, NEW.revision
    FROM release_notifications n
   WHERE n.release_id = NEW.release_id
     AND COALESCE((NEW.exposure ->> n.segment_key)::int, 0) > COALESCE((previous ->> n.segment_key)::int, 0)
  ON CONFLICT (release_id, segment_key, to_bps) DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER rollout_state_notifies_segments AFTER INSERT OR UPDATE OF exposure ON rollout_state
  FOR EACH ROW EXECUTE FUNCTION enqueue_segment_notifications();
