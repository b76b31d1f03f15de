-- Preparing a notification pages through its audience (device id order), one transaction per page:
-- the row remembers how far it got, so a preparation that dies resumes there, and a page commits only
-- when `pages_done` is still what the worker read (two workers on one growth never write a page twice).
ALTER TABLE segment_notifications ADD COLUMN IF NOT EXISTS pages_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE segment_notifications ADD COLUMN IF NOT EXISTS cursor_device_id TEXT;
-- A growth whose preparation kept failing is given up after a bounded number of attempts.
ALTER TABLE segment_notifications ADD COLUMN IF NOT EXISTS failed_at TIMESTAMPTZ;
DROP INDEX IF EXISTS segment_notifications_due;
CREATE INDEX IF NOT EXISTS segment_notifications_due ON segment_notifications (next_attempt_at) WHERE prepared_at IS NULL AND failed_at IS NULL;

-- The retention job forgets expired tokens and the device rows they paged through.
CREATE INDEX IF NOT EXISTS segment_notification_deliveries_token_expiry ON segment_notification_deliveries (token_expires_at) WHERE token_hash IS NOT NULL;
