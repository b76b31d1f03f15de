-- Trust model for telemetry: when a check first served a device in a release's canary or control
-- slice. A device first seen after the release started counts toward the gates only from a counting
-- window that begins at least one window after this moment; ids that report without ever being
-- served are set aside. One row per release and device (first serving only), written in batches
-- behind the update check, never per event.
CREATE TABLE IF NOT EXISTS release_served_devices (
  release_id      TEXT NOT NULL,
  device_id       TEXT NOT NULL,
  first_served_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (release_id, device_id)
);

-- The bucket salt becomes a random secret per release (api/services/release-service.ts). Every
-- release started before wrote its own id as its salt, so existing rows keep their assignments as
-- they are: nothing to rewrite.
