-- Every raw event pays for each index of device_events at ingestion. Two of them serve no query any
-- more: retention drops whole daily partitions instead of deleting by received_at, and release
-- figures come from the rollups, never from a release's raw events. What stays: the primary key and
-- device_events_by_device, which a device's story reads.
DROP INDEX IF EXISTS device_events_received;
DROP INDEX IF EXISTS device_events_by_release;
