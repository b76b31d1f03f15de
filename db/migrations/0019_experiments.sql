-- Experiments (issue 17): a release whose exposed devices are split between arms. The release row
-- keeps its bundle (the first treatment arm's until an arm is promoted, then the promoted arm's),
-- plan (the exposure ramp) and bucket salt (who is in); the arms and their own salt live here.
CREATE TABLE experiments (
  release_id TEXT PRIMARY KEY REFERENCES releases (id),
  arm_salt   TEXT NOT NULL,
  -- control arm, primary metric, guardrails, time limit, alpha: fixed for the experiment's life.
  definition JSONB NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE experiment_arms (
  release_id   TEXT NOT NULL REFERENCES experiments (release_id),
  arm_key      TEXT NOT NULL,
  position     SMALLINT NOT NULL,
  app_id       TEXT NOT NULL,
  -- NULL: the arm runs the release's baseline.
  version      TEXT,
  weight       INTEGER NOT NULL CHECK (weight > 0),
  install_mode TEXT NOT NULL CHECK (install_mode IN ('next_launch', 'immediate')),
  PRIMARY KEY (release_id, arm_key),
  UNIQUE (release_id, position),
  FOREIGN KEY (app_id, version) REFERENCES bundles (app_id, version)
);

-- What the experiment workflow publishes beside rollout_state, in the same transaction and under
-- the same revision: which arms are stopped, and which arm was promoted.
CREATE TABLE experiment_state (
  release_id   TEXT PRIMARY KEY REFERENCES experiments (release_id),
  revision     BIGINT NOT NULL,
  stopped_arms TEXT[] NOT NULL DEFAULT '{}',
  promoted_arm TEXT
);

-- An experiment's gate slices and rollup cohorts are its arms.
ALTER TABLE release_device_windows DROP CONSTRAINT IF EXISTS release_device_windows_slice_check;
ALTER TABLE release_device_windows ADD CONSTRAINT release_device_windows_slice_check
  CHECK (slice IN ('canary', 'control') OR slice LIKE 'arm:%');
ALTER TABLE rollup_buckets DROP CONSTRAINT IF EXISTS rollup_buckets_cohort_check;
ALTER TABLE rollup_buckets ADD CONSTRAINT rollup_buckets_cohort_check
  CHECK (cohort IN ('canary', 'control', 'rest') OR cohort LIKE 'arm:%');

-- Sessions with a reported duration, with the sum and sum of squares of the durations (ms): the
-- mean-difference statistic of an experiment needs them, and histograms only bound the quantiles.
ALTER TABLE rollup_buckets
  ADD COLUMN timed_sessions     INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN session_ms_sum     DOUBLE PRECISION NOT NULL DEFAULT 0,
  ADD COLUMN session_ms_squares DOUBLE PRECISION NOT NULL DEFAULT 0;
