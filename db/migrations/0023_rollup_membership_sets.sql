-- One membership row per device and bucket, with the sets it belongs to there as bits (domain/insight.ts
-- ROLLUP_SET_BITS: active 1, on_release 2, crashed 4, js_error 8), instead of one row per set: a batch
-- writes a device's bucket once instead of two to four times, which was most of what the rollups cost
-- ingestion in the database. Every member is active, so a bucket's rows are its active devices.
-- last_added: the sets the row's latest write added, which that write's RETURNING hands to the
-- bucket's distinct-device counts (an upsert cannot return the row as it was before).
CREATE TABLE rollup_bucket_device_sets (
  bucket_id  BIGINT NOT NULL,
  sets       SMALLINT NOT NULL CHECK (sets & 1 = 1),
  last_added SMALLINT NOT NULL DEFAULT 0,
  device_id  TEXT NOT NULL,
  PRIMARY KEY (bucket_id, device_id)
);

-- The old codes were 1 active, 2 on_release, 3 crashed, 4 js_error: code c is bit 1 << (c - 1).
INSERT INTO rollup_bucket_device_sets (bucket_id, sets, last_added, device_id)
SELECT d.bucket_id, (bit_or(1 << (d.device_set - 1)) | 1)::smallint, 0, d.device_id
FROM rollup_bucket_devices d
GROUP BY d.bucket_id, d.device_id;

DROP TABLE rollup_bucket_devices;
ALTER TABLE rollup_bucket_device_sets RENAME TO rollup_bucket_devices;
ALTER INDEX rollup_bucket_device_sets_pkey RENAME TO rollup_bucket_devices_pkey;
