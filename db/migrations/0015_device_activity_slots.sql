-- Adoption per app and channel (GET /v1/apps/:appId/adoption) counted every profile active in the
-- window: a scan of a million index entries per answer at fleet size. These counters hold, per app,
-- channel and bundle version, how many devices were last seen in each 5-minute slot, so an answer
-- adds up the slots of its window instead. Triggers on `devices` keep them exact whoever writes
-- profiles: a device seen again leaves its old slot (and bundle, and channel) and joins the new one.

CREATE FUNCTION device_activity_slot(seen_at TIMESTAMPTZ) RETURNS TIMESTAMPTZ
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN date_bin(INTERVAL '5 minutes', seen_at, TIMESTAMPTZ '2000-01-01 00:00:00+00');

CREATE TABLE device_activity_slots (
  app_id         TEXT NOT NULL,
  slot           TIMESTAMPTZ NOT NULL,
  channel        TEXT,
  bundle_version TEXT,
  devices        INTEGER NOT NULL,
  CONSTRAINT device_activity_slots_key UNIQUE NULLS NOT DISTINCT (app_id, slot, channel, bundle_version)
);

-- Adds the changes of one statement, as (key, ±devices) rows, in key order under one lock: concurrent
-- profile writers then neither deadlock on the counters nor lose an update. The lock is held to
-- commit; profile writes are batched behind the hot path, a few statements a second.
CREATE FUNCTION add_device_activity(app_ids TEXT[], slots TIMESTAMPTZ[], channels TEXT[], bundle_versions TEXT[], deltas INTEGER[])
  RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(x'44414354'::int);
  INSERT INTO device_activity_slots AS s (app_id, slot, channel, bundle_version, devices)
  SELECT c.app_id, c.slot, c.channel, c.bundle_version, sum(c.delta)::int
  FROM unnest(app_ids, slots, channels, bundle_versions, deltas) AS c (app_id, slot, channel, bundle_version, delta)
  GROUP BY c.app_id, c.slot, c.channel, c.bundle_version
  HAVING sum(c.delta) <> 0
  ORDER BY c.app_id, c.slot, c.channel, c.bundle_version
  ON CONFLICT ON CONSTRAINT device_activity_slots_key DO UPDATE SET devices = s.devices + EXCLUDED.devices;
END $$;

-- One statement's rows at once (transition tables): a batch of profiles costs one upsert, not one per row.
CREATE FUNCTION count_device_activity() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM add_device_activity(array_agg(n.app_id), array_agg(device_activity_slot(n.last_seen)), array_agg(n.channel), array_agg(n.bundle_version), array_agg(1))
    FROM new_rows n;
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM add_device_activity(array_agg(c.app_id), array_agg(c.slot), array_agg(c.channel), array_agg(c.bundle_version), array_agg(c.delta))
    FROM (
      SELECT n.app_id, device_activity_slot(n.last_seen) AS slot, n.channel, n.bundle_version, 1 AS delta FROM new_rows n
      UNION ALL
      SELECT o.app_id, device_activity_slot(o.last_seen), o.channel, o.bundle_version, -1 FROM old_rows o
    ) c;
  ELSE
    PERFORM add_device_activity(array_agg(o.app_id), array_agg(device_activity_slot(o.last_seen)), array_agg(o.channel), array_agg(o.bundle_version), array_agg(-1))
    FROM old_rows o;
  END IF;
  RETURN NULL;
END $$;

-- Profiles written while this migration runs wait for it, so the counters start from every one.
LOCK TABLE devices IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER devices_activity_inserted AFTER INSERT ON devices
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_device_activity();
CREATE TRIGGER devices_activity_updated AFTER UPDATE ON devices
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_device_activity();
CREATE TRIGGER devices_activity_deleted AFTER DELETE ON devices
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_device_activity();

INSERT INTO device_activity_slots (app_id, slot, channel, bundle_version, devices)
SELECT d.app_id, device_activity_slot(d.last_seen), d.channel, d.bundle_version, count(*)::int
FROM devices d
GROUP BY 1, 2, 3, 4;
