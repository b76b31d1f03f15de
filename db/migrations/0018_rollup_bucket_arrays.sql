-- A bucket's duration histograms and feature uses move onto its row in rollup_buckets, as arrays:
-- an insight answer reads one row per bucket instead of one per histogram bin and feature name (a day
-- of 5-minute buckets was ~38,000 rows), and a batch's rollups lock its bucket rows and nothing else.
-- session_durations, install_durations: counts by bin of domain/insight.ts DURATION_BIN_EDGES_MS
-- (element 1 is the first bin). feature_uses: uses by slot; slot 1 is `other`, every kept name has
-- its own in rollup_feature_names. Trailing bins and slots nobody used may be absent: they count 0.
ALTER TABLE rollup_buckets
  ADD COLUMN session_durations INTEGER[] NOT NULL DEFAULT '{}',
  ADD COLUMN install_durations INTEGER[] NOT NULL DEFAULT '{}',
  ADD COLUMN feature_uses INTEGER[] NOT NULL DEFAULT '{}';

-- Adds two arrays of counts element by element; the shorter one counts as zeros beyond its end.
CREATE FUNCTION rollup_add_counts(a INTEGER[], b INTEGER[]) RETURNS INTEGER[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN CASE
    WHEN cardinality(b) = 0 THEN a
    WHEN cardinality(a) = 0 THEN b
    ELSE ARRAY(SELECT coalesce(x, 0) + coalesce(y, 0) FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i) ORDER BY i)
  END;

-- `other` is slot 1 of every app without being one of its names: uses of a feature a device calls
-- `other` count there, as they did when rows were keyed by name.
DELETE FROM rollup_feature_names n WHERE n.feature = 'other';
ALTER TABLE rollup_feature_names ADD COLUMN slot SMALLINT;
UPDATE rollup_feature_names n SET slot = r.slot
FROM (SELECT f.app_id, f.feature, 1 + row_number() OVER (PARTITION BY f.app_id ORDER BY f.created_at, f.feature) AS slot FROM rollup_feature_names f) r
WHERE r.app_id = n.app_id AND r.feature = n.feature;
ALTER TABLE rollup_feature_names ALTER COLUMN slot SET NOT NULL;
ALTER TABLE rollup_feature_names ADD CONSTRAINT rollup_feature_names_slot_check CHECK (slot > 1);
ALTER TABLE rollup_feature_names ADD CONSTRAINT rollup_feature_names_slot_key UNIQUE (app_id, slot);

-- Every bin and feature count as (bucket, array, element, count).
CREATE TEMPORARY TABLE rollup_elements AS
SELECT b.bucket_id, h.histogram AS kind, h.bin + 1 AS element, h.count
FROM rollup_histograms h
JOIN rollup_buckets b USING (release_id, segment, cohort, bucket_ms, bucket_start)
UNION ALL
SELECT b.bucket_id, 'feature', coalesce(n.slot, 1), sum(f.uses)::int
FROM rollup_features f
JOIN rollup_buckets b USING (release_id, segment, cohort, bucket_ms, bucket_start)
LEFT JOIN releases r ON r.id = f.release_id
LEFT JOIN rollup_feature_names n ON n.app_id = r.app_id AND n.feature = f.feature
GROUP BY 1, 2, 3;

UPDATE rollup_buckets b SET
  session_durations = coalesce(a.session_durations, '{}'),
  install_durations = coalesce(a.install_durations, '{}'),
  feature_uses = coalesce(a.feature_uses, '{}')
FROM (
  SELECT d.bucket_id,
         min(d.counts) FILTER (WHERE d.kind = 'session_duration') AS session_durations,
         min(d.counts) FILTER (WHERE d.kind = 'install_duration') AS install_durations,
         min(d.counts) FILTER (WHERE d.kind = 'feature') AS feature_uses
  FROM (
    SELECT k.bucket_id, k.kind, array_agg(coalesce(e.count, 0) ORDER BY s.element) AS counts
    FROM (SELECT x.bucket_id, x.kind, max(x.element) AS top FROM rollup_elements x GROUP BY 1, 2) k
    CROSS JOIN LATERAL generate_series(1, k.top) AS s(element)
    LEFT JOIN rollup_elements e ON e.bucket_id = k.bucket_id AND e.kind = k.kind AND e.element = s.element
    GROUP BY 1, 2
  ) d
  GROUP BY d.bucket_id
) a
WHERE b.bucket_id = a.bucket_id;

DROP TABLE rollup_elements;
DROP TABLE rollup_histograms;
DROP TABLE rollup_features;
