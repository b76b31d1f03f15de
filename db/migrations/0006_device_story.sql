-- A device's story reads its latest raw events; without this it would scan the app's events.
CREATE INDEX IF NOT EXISTS device_events_by_device ON device_events (app_id, device_id, received_at DESC);

-- Adoption per channel counts active devices per bundle version: an index-only scan with this.
CREATE INDEX IF NOT EXISTS devices_channel_last_seen ON devices (app_id, channel, last_seen) INCLUDE (bundle_version);
