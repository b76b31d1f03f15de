-- A device sends its events in reports (up to 100 per post), and the raw events are only ever read a
-- device at a time, newest first. One row per event repeated the report's app, device, segment
-- and arrival in every event, and paid a heap tuple, an index entry and a WAL record each: ~400 bytes
-- of WAL per event, most of ingestion's cost in PostgreSQL. One row per report keeps the per-event
-- fields as arrays (element i of each is event i) and costs ~100 bytes of WAL per event.
CREATE TABLE device_reports (
  id              BIGINT GENERATED ALWAYS AS IDENTITY,
  app_id          TEXT NOT NULL,
  device_id       TEXT NOT NULL,
  segment         TEXT NOT NULL,
  received_at     TIMESTAMPTZ NOT NULL,
  types           TEXT[] NOT NULL,
  bundle_versions TEXT[] NOT NULL,
  occurred_at     TIMESTAMPTZ[] NOT NULL,
  -- An event not attributed to a release has NULL here.
  release_ids     TEXT[] NOT NULL,
  cohorts         TEXT[] NOT NULL CHECK (cohorts <@ ARRAY['canary', 'control', 'none']),
  details         JSONB[] NOT NULL,
  CHECK (cardinality(types) >= 1
         AND cardinality(bundle_versions) = cardinality(types) AND cardinality(occurred_at) = cardinality(types)
         AND cardinality(release_ids) = cardinality(types) AND cardinality(cohorts) = cardinality(types)
         AND cardinality(details) = cardinality(types)),
  PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);

-- The same days as the raw events' partitions, plus today's and tomorrow's; the worker keeps ahead.
DO $$
DECLARE
  day DATE;
BEGIN
  FOR day IN
    SELECT d FROM (
      SELECT to_date(substr(c.relname, length('device_events_p') + 1), 'YYYYMMDD') AS d
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'device_events'::regclass AND c.relname ~ '^device_events_p[0-9]{8}$'
      UNION SELECT (now() AT TIME ZONE 'UTC')::date
      UNION SELECT (now() AT TIME ZONE 'UTC')::date + 1
    ) days
  LOOP
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF device_reports FOR VALUES FROM (%L) TO (%L)',
      'device_reports_p' || to_char(day, 'YYYYMMDD'),
      day::text || ' 00:00:00+00',
      (day + 1)::text || ' 00:00:00+00'
    );
  END LOOP;
END $$;

-- A post's events share their device, segment and arrival: each such group becomes one report, in arrival order.
INSERT INTO device_reports (app_id, device_id, segment, received_at, types, bundle_versions, occurred_at, release_ids, cohorts, details)
SELECT e.app_id, e.device_id, e.segment, e.received_at,
       array_agg(e.type ORDER BY e.id), array_agg(e.bundle_version ORDER BY e.id), array_agg(e.occurred_at ORDER BY e.id),
       array_agg(e.release_id ORDER BY e.id), array_agg(e.cohort ORDER BY e.id), array_agg(e.details ORDER BY e.id)
FROM device_events e
GROUP BY e.app_id, e.device_id, e.segment, e.received_at
ORDER BY min(e.id);

DROP TABLE device_events;

CREATE INDEX device_reports_by_device ON device_reports (app_id, device_id, received_at DESC);

-- One row per event, for reading raw events by hand: `seq` is the event's place in its report (from 1).
CREATE VIEW device_events AS
SELECT r.id AS report_id, e.seq, r.app_id, r.device_id, e.release_id, r.segment, e.cohort, e.type, e.bundle_version,
       e.occurred_at, r.received_at, e.details
FROM device_reports r
CROSS JOIN LATERAL unnest(r.types, r.bundle_versions, r.occurred_at, r.release_ids, r.cohorts, r.details)
  WITH ORDINALITY AS e (type, bundle_version, occurred_at, release_id, cohort, details, seq);
