-- An experiment's notification tells each arm's devices about their arm's bundle, and nothing to the
-- devices of arms that keep the baseline: a delivery holds one arm's devices and records the arm and
-- the version its payload named. arm_key NULL: a release without arms.
ALTER TABLE segment_notification_deliveries ADD COLUMN IF NOT EXISTS bundle_version TEXT;
ALTER TABLE segment_notification_deliveries ADD COLUMN IF NOT EXISTS arm_key TEXT;

-- Deliveries recorded before: the version their payload named, where an outbox row still holds it.
UPDATE segment_notification_deliveries d SET bundle_version = o.payload ->> 'bundleVersion'
  FROM webhook_outbox o
 WHERE o.idempotency_key = d.id AND d.bundle_version IS NULL;
