-- Release insight is read from rollups kept as events arrive (telemetry-store write), never from raw events.
-- Key of every rollup: release × segment × cohort (canary, control, rest) × bucket size (ms) × bucket start.
CREATE TABLE IF NOT EXISTS rollup_buckets (
  release_id         TEXT NOT NULL,
  segment            TEXT NOT NULL,
  cohort             TEXT NOT NULL CHECK (cohort IN ('canary', 'control', 'rest')),
  bucket_ms          INTEGER NOT NULL,
  bucket_start       TIMESTAMPTZ NOT NULL,
  active_devices     INTEGER NOT NULL DEFAULT 0,
  on_release_devices INTEGER NOT NULL DEFAULT 0,
  crashed_devices    INTEGER NOT NULL DEFAULT 0,
  js_error_devices   INTEGER NOT NULL DEFAULT 0,
  installs_ok        INTEGER NOT NULL DEFAULT 0,
  installs_failed    INTEGER NOT NULL DEFAULT 0,
  sessions           INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (release_id, segment, cohort, bucket_ms, bucket_start)
);
CREATE INDEX IF NOT EXISTS rollup_buckets_by_start ON rollup_buckets (bucket_start);

-- Which devices a bucket has already counted, per device set (see insight-store's DEVICE_SET_CODES):
-- a row that is new here is a device new to the bucket's distinct count.
CREATE TABLE IF NOT EXISTS rollup_bucket_devices (
  release_id   TEXT NOT NULL,
  segment      TEXT NOT NULL,
  cohort       TEXT NOT NULL,
  bucket_ms    INTEGER NOT NULL,
  bucket_start TIMESTAMPTZ NOT NULL,
  device_set   SMALLINT NOT NULL,
  device_id    TEXT NOT NULL,
  PRIMARY KEY (release_id, segment, cohort, bucket_ms, bucket_start, device_set, device_id)
);
CREATE INDEX IF NOT EXISTS rollup_bucket_devices_by_start ON rollup_bucket_devices (bucket_start);

-- Duration histograms with the fixed bins of domain/insight.ts DURATION_BIN_EDGES_MS.
CREATE TABLE IF NOT EXISTS rollup_histograms (
  release_id   TEXT NOT NULL,
  segment      TEXT NOT NULL,
  cohort       TEXT NOT NULL,
  bucket_ms    INTEGER NOT NULL,
  bucket_start TIMESTAMPTZ NOT NULL,
  histogram    TEXT NOT NULL CHECK (histogram IN ('session_duration', 'install_duration')),
  bin          SMALLINT NOT NULL,
  count        INTEGER NOT NULL,
  PRIMARY KEY (release_id, segment, cohort, bucket_ms, bucket_start, histogram, bin)
);
CREATE INDEX IF NOT EXISTS rollup_histograms_by_start ON rollup_histograms (bucket_start);

-- The feature names an app's rollups keep (at most MAX_FEATURE_NAMES_PER_APP); others count as 'other'.
CREATE TABLE IF NOT EXISTS rollup_feature_names (
  app_id     TEXT NOT NULL,
  feature    TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, feature)
);

CREATE TABLE IF NOT EXISTS rollup_features (
  release_id   TEXT NOT NULL,
  segment      TEXT NOT NULL,
  cohort       TEXT NOT NULL,
  bucket_ms    INTEGER NOT NULL,
  bucket_start TIMESTAMPTZ NOT NULL,
  feature      TEXT NOT NULL,
  uses         INTEGER NOT NULL,
  PRIMARY KEY (release_id, segment, cohort, bucket_ms, bucket_start, feature)
);
CREATE INDEX IF NOT EXISTS rollup_features_by_start ON rollup_features (bucket_start);

-- Raw events move to a table partitioned by day of arrival, so retention drops whole partitions.
-- Ids keep counting from where the old identity column stopped.
CREATE SEQUENCE IF NOT EXISTS device_events_id_seq_by_day AS BIGINT;
SELECT setval('device_events_id_seq_by_day', coalesce((SELECT max(e.id) FROM device_events e), 0) + 1, false);

CREATE TABLE device_events_by_day (
  id             BIGINT NOT NULL DEFAULT nextval('device_events_id_seq_by_day'),
  app_id         TEXT NOT NULL,
  device_id      TEXT NOT NULL,
  release_id     TEXT,
  segment        TEXT NOT NULL,
  cohort         TEXT NOT NULL CHECK (cohort IN ('canary', 'control', 'none')),
  type           TEXT NOT NULL,
  bundle_version TEXT NOT NULL,
  occurred_at    TIMESTAMPTZ NOT NULL,
  received_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  details        JSONB,
  PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);

-- One partition per UTC day holding rows today, plus today's and tomorrow's; the worker keeps ahead.
DO $$
DECLARE
  day DATE;
BEGIN
  FOR day IN
    SELECT d FROM (
      SELECT DISTINCT (e.received_at AT TIME ZONE 'UTC')::date AS d FROM device_events e
      UNION SELECT (now() AT TIME ZONE 'UTC')::date
      UNION SELECT (now() AT TIME ZONE 'UTC')::date + 1
    ) days
  LOOP
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF device_events_by_day FOR VALUES FROM (%L) TO (%L)',
      'device_events_p' || to_char(day, 'YYYYMMDD'),
      day::text || ' 00:00:00+00',
      (day + 1)::text || ' 00:00:00+00'
    );
  END LOOP;
END $$;

INSERT INTO device_events_by_day (id, app_id, device_id, release_id, segment, cohort, type, bundle_version, occurred_at, received_at, details)
SELECT e.id, e.app_id, e.device_id, e.release_id, e.segment, e.cohort, e.type, e.bundle_version, e.occurred_at, e.received_at, e.details
FROM device_events e;

DROP TABLE device_events;
ALTER TABLE device_events_by_day RENAME TO device_events;
ALTER SEQUENCE device_events_id_seq_by_day RENAME TO device_events_id_seq;
ALTER SEQUENCE device_events_id_seq OWNED BY device_events.id;
CREATE INDEX device_events_received ON device_events (received_at);
CREATE INDEX device_events_by_release ON device_events (release_id, received_at) WHERE release_id IS NOT NULL;
