-- API instances keep each app's serving snapshot up to date from NOTIFY payloads that say what
-- changed, and their periodic reconcile compares these revisions instead of reloading every app.
ALTER TABLE apps ADD COLUMN definitions_revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN overrides_revision BIGINT NOT NULL DEFAULT 0;

-- The reconcile reads the states published since its last pass, and the self-assignments that
-- lapsed since then; neither may scan all history.
CREATE INDEX rollout_state_by_published_at ON rollout_state (published_at);
CREATE INDEX device_channel_overrides_self_by_created_at ON device_channel_overrides (created_at) WHERE source = 'self';

-- Channels, segments and signing keys are an app's definitions: any change, by any writer, bumps
-- the app's revision and tells API instances to reread that app's definitions (a few rows).
CREATE FUNCTION snapshot_definitions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  notified bigint;
BEGIN
  WITH touched AS (SELECT DISTINCT c.app_id FROM changed_rows c),
       bumped AS (
         UPDATE apps a SET definitions_revision = a.definitions_revision + 1
         FROM touched t WHERE a.id = t.app_id RETURNING a.id
       )
  SELECT count(pg_notify('rollout_state', json_build_object('kind', 'definitions', 'appId', b.id)::text)) INTO notified FROM bumped b;
  RETURN NULL;
END $$;

-- Overrides: a few changed rows are announced one by one (the instance rereads those rows); a bulk
-- change (or a device id too long for a payload) as one reread of the app's overrides. The payload
-- carries the app's new overrides revision: the apps row stays locked until commit, so an app's
-- revisions commit (and arrive) in order, and an instance that sees one skipped lost a notification.
CREATE FUNCTION snapshot_overrides_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  one_by_one CONSTANT integer := 64;
  notified bigint;
BEGIN
  WITH per_app AS (
         SELECT c.app_id, count(*) AS n, max(octet_length(c.device_id)) AS longest FROM changed_rows c GROUP BY c.app_id
       ),
       bumped AS (
         UPDATE apps a SET overrides_revision = a.overrides_revision + 1
         FROM per_app p WHERE a.id = p.app_id RETURNING a.id, a.overrides_revision AS revision
       ),
       announced AS (
         SELECT pg_notify('rollout_state', json_build_object('kind', 'overrides', 'appId', p.app_id, 'revision', b.revision)::text)
         FROM per_app p JOIN bumped b ON b.id = p.app_id WHERE p.n > one_by_one OR p.longest > 4000
         UNION ALL
         SELECT pg_notify('rollout_state', json_build_object('kind', 'override', 'appId', c.app_id, 'deviceId', c.device_id, 'revision', b.revision)::text)
         FROM changed_rows c JOIN per_app p ON p.app_id = c.app_id JOIN bumped b ON b.id = c.app_id
         WHERE p.n <= one_by_one AND p.longest <= 4000
       )
  SELECT (SELECT count(*) FROM bumped) + (SELECT count(*) FROM announced) INTO notified;
  RETURN NULL;
END $$;

-- The NOTIFY channel is the one db/change-feed.ts listens on. Transition tables cover every row a
-- statement touched; DELETE triggers see the old rows under the same name.
CREATE TRIGGER channels_inserted AFTER INSERT ON channels REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION snapshot_definitions_changed();
CREATE TRIGGER channels_updated AFTER UPDATE ON channels REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION snapshot_definitions_changed();
CREATE TRIGGER channels_deleted AFTER DELETE ON channels REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION snapshot_definitions_changed();
CREATE TRIGGER segments_inserted AFTER INSERT ON segments REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION snapshot_definitions_changed();
CREATE TRIGGER segments_updated AFTER UPDATE ON segments REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION snapshot_definitions_changed();
CREATE TRIGGER segments_deleted AFTER DELETE ON segments REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION snapshot_definitions_changed();
CREATE TRIGGER app_signing_keys_inserted AFTER INSERT ON app_signing_keys REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION snapshot_definitions_changed();
CREATE TRIGGER app_signing_keys_updated AFTER UPDATE ON app_signing_keys REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION snapshot_definitions_changed();
CREATE TRIGGER app_signing_keys_deleted AFTER DELETE ON app_signing_keys REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION snapshot_definitions_changed();
CREATE TRIGGER device_channel_overrides_inserted AFTER INSERT ON device_channel_overrides REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION snapshot_overrides_changed();
CREATE TRIGGER device_channel_overrides_updated AFTER UPDATE ON device_channel_overrides REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION snapshot_overrides_changed();
CREATE TRIGGER device_channel_overrides_deleted AFTER DELETE ON device_channel_overrides REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION snapshot_overrides_changed();
