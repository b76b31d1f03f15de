-- Who may start a plan that weakens the rollout's guard. No row: the domain's default policy,
-- so a change of that default reaches every app that never chose its own.
CREATE TABLE IF NOT EXISTS app_policies (
  app_id        TEXT PRIMARY KEY REFERENCES apps (id),
  disable_gates TEXT[] NOT NULL,
  dry_run       TEXT[] NOT NULL,
  skip_stages   TEXT[] NOT NULL,
  updated_by    TEXT NOT NULL,
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
