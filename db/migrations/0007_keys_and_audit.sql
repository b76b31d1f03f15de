-- Keys may expire; last_used_at shows which keys are still in use (written at most once a minute).
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS expires_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS last_used_at TIMESTAMPTZ;

-- The app a row concerns, so the log can be filtered by app and app-scoped admins see only theirs.
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS app_id TEXT;
UPDATE audit_log SET app_id = COALESCE(details->>'appId', substring(target FROM '^app:(.*)$'), substring(target FROM '^bundle:(.*)@'))
 WHERE app_id IS NULL;
CREATE INDEX IF NOT EXISTS audit_log_by_time ON audit_log (at DESC, id DESC);
CREATE INDEX IF NOT EXISTS audit_log_by_app ON audit_log (app_id, at DESC) WHERE app_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_log_by_actor ON audit_log (actor, at DESC);
