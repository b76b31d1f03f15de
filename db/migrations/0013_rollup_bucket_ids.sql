-- Device memberships name their bucket by a number instead of repeating its five-column key: each
-- row and its primary key shrink by more than half, which is most of what ingestion pays for the
-- rollups, and their bucket_start index goes (retention finds a bucket's members by its id).
ALTER TABLE rollup_buckets ADD COLUMN bucket_id BIGINT GENERATED ALWAYS AS IDENTITY;
ALTER TABLE rollup_buckets ADD CONSTRAINT rollup_buckets_bucket_id_key UNIQUE (bucket_id);

CREATE TABLE rollup_bucket_devices_by_id (
  bucket_id  BIGINT NOT NULL,
  device_set SMALLINT NOT NULL,
  device_id  TEXT NOT NULL,
  PRIMARY KEY (bucket_id, device_set, device_id)
);

INSERT INTO rollup_bucket_devices_by_id (bucket_id, device_set, device_id)
SELECT b.bucket_id, d.device_set, d.device_id
FROM rollup_bucket_devices d
JOIN rollup_buckets b ON b.release_id = d.release_id AND b.segment = d.segment AND b.cohort = d.cohort
                     AND b.bucket_ms = d.bucket_ms AND b.bucket_start = d.bucket_start;

DROP TABLE rollup_bucket_devices;
ALTER TABLE rollup_bucket_devices_by_id RENAME TO rollup_bucket_devices;
ALTER INDEX rollup_bucket_devices_by_id_pkey RENAME TO rollup_bucket_devices_pkey;
