import type { BundleRef, Platform } from '../../domain/bundle';
import { TERMINAL_STATUSES, WITHDRAWN_STATUSES } from '../../domain/release';
import type { ServingRelease } from '../../domain/serving';
import type { Channel } from '../../domain/channel';
import type { SegmentDefinition } from '../../domain/segment';
import type { SecretBox } from '../../platform/secret-box';
import type { Queryable } from '../create-pool';
import { mapOverrideRow, OVERRIDE_COLUMNS, type DeviceOverride, type OverrideRow } from '../stores/channel-override-store';
import { CHANNEL_COLUMNS, mapChannelRow, type ChannelRow } from '../stores/channel-store';
import { createExperimentStore } from '../stores/experiment-store';
import { mapSegmentRow, SEGMENT_COLUMNS, type SegmentRow } from '../stores/segment-store';

interface ServingRow {
  release_id: string;
  app_id: string;
  channel: string;
  bucket_salt: string;
  window_ms: number;
  created_at: Date;
  revision: number;
  status: ServingRelease['status'];
  stage_index: number;
  exposure: ServingRelease['exposure'];
  published_at: Date;
  withdrawn_segments: string[];
  t_version: string;
  t_url: string;
  t_sha256: string;
  t_size: number;
  t_platforms: Platform[];
  t_native_range: string;
  t_session_key: string | null;
  t_encrypted_checksum: string | null;
  t_signature: string | null;
  f_version: string | null;
  f_url: string | null;
  f_sha256: string | null;
  f_size: number | null;
  f_platforms: Platform[] | null;
  f_native_range: string | null;
  f_session_key: string | null;
  f_encrypted_checksum: string | null;
  f_signature: string | null;
  /** Segment key → its own bundle, built by the query in BundleRef's shape (personalized releases). */
  segment_targets: Record<string, BundleRef> | null;
}

function bundleRef(prefix: 't' | 'f', row: ServingRow): BundleRef | null {
  const version = row[`${prefix}_version`];
  if (version === null) return null;
  return {
    version,
    url: row[`${prefix}_url`]!,
    sha256: row[`${prefix}_sha256`]!,
    size: row[`${prefix}_size`]!,
    platforms: row[`${prefix}_platforms`]!,
    nativeRange: row[`${prefix}_native_range`]!,
    sessionKey: row[`${prefix}_session_key`],
    encryptedChecksum: row[`${prefix}_encrypted_checksum`],
    signature: row[`${prefix}_signature`],
  };
}

function mapRow(row: ServingRow): ServingRelease {
  return {
    releaseId: row.release_id,
    appId: row.app_id,
    channel: row.channel,
    bucketSalt: row.bucket_salt,
    windowMs: row.window_ms,
    createdAt: row.created_at.getTime(),
    revision: row.revision,
    status: row.status,
    stageIndex: row.stage_index,
    exposure: row.exposure,
    publishedAt: row.published_at.getTime(),
    target: bundleRef('t', row)!,
    fallback: bundleRef('f', row),
    ...(row.segment_targets ? { segmentTargets: row.segment_targets } : {}),
    ...(row.withdrawn_segments.length > 0 ? { withdrawnSegments: row.withdrawn_segments } : {}),
  };
}

const SELECT = `
  SELECT r.id AS release_id, r.app_id, r.channel, r.bucket_salt, r.window_ms, r.created_at,
         rs.revision, rs.status, rs.stage_index, rs.exposure, rs.published_at, rs.withdrawn_segments,
         t.version AS t_version, t.url AS t_url, t.sha256 AS t_sha256, t.size AS t_size, t.platforms AS t_platforms,
         t.native_range AS t_native_range, t.session_key AS t_session_key,
         t.encrypted_checksum AS t_encrypted_checksum, t.signature AS t_signature,
         f.version AS f_version, f.url AS f_url, f.sha256 AS f_sha256, f.size AS f_size, f.platforms AS f_platforms,
         f.native_range AS f_native_range, f.session_key AS f_session_key,
         f.encrypted_checksum AS f_encrypted_checksum, f.signature AS f_signature,
         (SELECT json_object_agg(sb.segment_key, json_build_object(
                   'version', b.version, 'url', b.url, 'sha256', b.sha256, 'size', b.size, 'platforms', b.platforms,
                   'nativeRange', b.native_range, 'sessionKey', b.session_key,
                   'encryptedChecksum', b.encrypted_checksum, 'signature', b.signature))
            FROM release_segment_bundles sb JOIN bundles b ON b.app_id = sb.app_id AND b.version = sb.version
           WHERE sb.release_id = r.id) AS segment_targets
  FROM rollout_state rs
  JOIN releases r ON r.id = rs.release_id
  JOIN bundles t ON t.app_id = r.app_id AND t.version = r.version
  LEFT JOIN bundles f ON f.app_id = r.app_id AND f.version = r.baseline_version`;

/** Who signs an app's answers: its active key, opened, so answers are signed from memory. */
export interface SigningKeySource {
  id: string;
  privateKeyPem: string;
}

/** What of an app changes only by an admin: a few rows, reread whole on any change. */
export interface AppDefinitions {
  appId: string;
  channels: Channel[];
  segments: SegmentDefinition[];
  /** null until the app has one. */
  signingKey: SigningKeySource | null;
}

/** Counters bumped by every write to an app's definitions or overrides (migration 0016). */
export interface AppRevisions {
  appId: string;
  definitions: number;
  overrides: number;
}

/** The versions a channel's withdrawn releases shipped: devices running one are sent back, however old. */
export interface WithdrawnVersions {
  appId: string;
  channel: string;
  versions: string[];
}

export interface AppServingSource extends AppDefinitions {
  revisions: AppRevisions;
  /** The releases worth holding (see `ServingReadModel.load`), oldest first. */
  releases: ServingRelease[];
  withdrawn: WithdrawnVersions[];
  overrides: DeviceOverride[];
}

/** A release whose published state was written, with the revision it reached. */
export interface PublishedRevision {
  appId: string;
  releaseId: string;
  revision: number;
}

/**
 * The reads the device-facing snapshot is built and kept up to date from. A full load costs what is
 * live (releases in flight, each channel's newest, recent ends) plus the overrides; every other read
 * costs what changed.
 */
export interface ServingReadModel {
  /**
   * Every app (or one; [] when it does not exist) with its definitions, overrides, the releases not
   * ended, each channel's newest release, those ended within `endedWithinMs`, and its withdrawn versions.
   */
  load(appId: string | null, endedWithinMs: number): Promise<AppServingSource[]>;
  revisions(): Promise<AppRevisions[]>;
  /** The app's definitions with its definitions revision read before them; null when the app does not exist. */
  definitions(appId: string): Promise<{ definitions: AppDefinitions; revision: number } | null>;
  releases(releaseIds: readonly string[]): Promise<ServingRelease[]>;
  /** Every override of the app in force, with the app's overrides revision as of the same read. */
  overrides(appId: string): Promise<{ overrides: DeviceOverride[]; revision: number }>;
  /** The overrides in force of these devices of the app; a device without one is absent. */
  overridesOf(appId: string, deviceIds: readonly string[]): Promise<DeviceOverride[]>;
  /** The database's clock: the reconcile's windows are on it. */
  now(): Promise<Date>;
  /** States published after `since` (the database's clock), and the database's clock now. */
  publishedSince(since: Date): Promise<{ published: PublishedRevision[]; now: Date }>;
  /**
   * Self-assignments that lapsed (outlived the TTL) after `since` (a lapse time, the database's
   * clock; null: only the lapse time), and the lapse time now; none while self-assignments never lapse.
   */
  lapsedSince(since: Date | null): Promise<{ lapsed: Array<{ appId: string; deviceId: string }>; until: Date | null }>;
}

const byApp = <T>(rows: T[], appOf: (row: T) => string) => {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const list = map.get(appOf(row)) ?? [];
    list.push(row);
    map.set(appOf(row), list);
  }
  return map;
};

interface RevisionRow {
  id: string;
  definitions_revision: number;
  overrides_revision: number;
}

const mapRevisions = (r: RevisionRow): AppRevisions => ({ appId: r.id, definitions: r.definitions_revision, overrides: r.overrides_revision });

/** `selfAssignmentTtlMs`: how long a device's own channel choice is served after it was made; null: for ever. */
export function createServingReadModel(db: Queryable, box: SecretBox, selfAssignmentTtlMs: number | null = null): ServingReadModel {
  const ttl = selfAssignmentTtlMs;
  const experiments = createExperimentStore(db);
  /** An experiment's arms ride along with its release, read in one more query for all of them. */
  const withExperiments = async (releases: ServingRelease[]): Promise<ServingRelease[]> => {
    const arms = await experiments.serving(releases.map((r) => r.releaseId));
    return arms.size === 0 ? releases : releases.map((r) => (arms.has(r.releaseId) ? { ...r, experiment: arms.get(r.releaseId)! } : r));
  };
  // A device's own choice lapses unless renewed: legacy plugins that went away stop costing memory.
  const inForce = (ttlParam: number) =>
    `(o.source = 'admin' OR $${ttlParam}::float8 IS NULL OR o.created_at > now() - make_interval(secs => $${ttlParam}::float8 / 1000))`;

  const readDefinitions = async (appId: string | null): Promise<AppDefinitions[]> => {
    const filter = (alias: string) => (appId === null ? '' : `WHERE ${alias}.app_id = $1`);
    const params = appId === null ? [] : [appId];
    const [apps, channels, segments, keys] = await Promise.all([
      db.query<{ id: string }>(`SELECT a.id FROM apps a ${appId === null ? '' : 'WHERE a.id = $1'}`, params),
      db.query<ChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM channels c ${filter('c')}`, params),
      db.query<SegmentRow>(`SELECT ${SEGMENT_COLUMNS} FROM segments s ${filter('s')} ORDER BY s.priority, s.key`, params),
      db.query<{ app_id: string; id: string; private_key: string }>(
        `SELECT k.app_id, k.id, k.private_key FROM app_signing_keys k WHERE k.retired_at IS NULL ${appId === null ? '' : 'AND k.app_id = $1'}`,
        params,
      ),
    ]);
    const keysByApp = new Map(keys.rows.map((k) => [k.app_id, { id: k.id, privateKeyPem: box.open(k.private_key) }]));
    const channelsByApp = byApp(channels.rows, (r) => r.app_id);
    const segmentsByApp = byApp(segments.rows, (r) => r.app_id);
    return apps.rows.map(({ id }) => ({
      appId: id,
      channels: (channelsByApp.get(id) ?? []).map(mapChannelRow),
      segments: (segmentsByApp.get(id) ?? []).map(mapSegmentRow),
      signingKey: keysByApp.get(id) ?? null,
    }));
  };

  return {
    async load(appId, endedWithinMs) {
      const params = appId === null ? [] : [appId];
      const appFilter = (alias: string) => (appId === null ? 'TRUE' : `${alias}.app_id = $1`);
      // Revisions first: what is read after is at least that new, so a later revision means a reread.
      const revisions = await db.query<RevisionRow>(
        `SELECT a.id, a.definitions_revision, a.overrides_revision FROM apps a ${appId === null ? '' : 'WHERE a.id = $1'}`,
        params,
      );
      const [definitions, releases, withdrawn, overrides] = await Promise.all([
        readDefinitions(appId),
        // Each channel's newest published release comes from the releases_by_app index, one row per channel.
        db.query<ServingRow>(
          `${SELECT}
           WHERE ${appFilter('r')} AND (
             rs.status <> ALL($${params.length + 1}::text[])
             OR rs.published_at > now() - make_interval(secs => $${params.length + 2}::float8 / 1000)
             OR r.id IN (
               SELECT newest.id FROM channels c CROSS JOIN LATERAL (
                 SELECT nr.id FROM releases nr JOIN rollout_state nrs ON nrs.release_id = nr.id
                 WHERE nr.app_id = c.app_id AND nr.channel = c.name
                 ORDER BY nr.created_at DESC, nr.id DESC LIMIT 1
               ) newest WHERE ${appFilter('c')}))
           ORDER BY r.app_id, r.created_at`,
          [...params, TERMINAL_STATUSES, endedWithinMs],
        ),
        db.query<{ app_id: string; channel: string; versions: string[] }>(
          // A withdrawn release ships all its bundles back (an experiment's arms too); one that goes on, its
          // withdrawn segments' own bundles (see versionsWithdrawnBy: a bundle another segment still gets is not withdrawn).
          `SELECT r.app_id, r.channel, array_agg(DISTINCT v.version) AS versions
           FROM rollout_state rs JOIN releases r ON r.id = rs.release_id
           CROSS JOIN LATERAL (
             SELECT r.version WHERE rs.status = ANY($${params.length + 1}::text[])
             UNION
             SELECT a.version FROM experiment_arms a
              WHERE a.release_id = r.id AND a.version IS NOT NULL AND rs.status = ANY($${params.length + 1}::text[])
             UNION
             SELECT sb.version FROM release_segment_bundles sb
              WHERE sb.release_id = r.id AND (rs.status = ANY($${params.length + 1}::text[]) OR (
                sb.segment_key = ANY(rs.withdrawn_segments) AND sb.version <> r.version AND NOT EXISTS (
                  SELECT 1 FROM release_segment_bundles kept
                   WHERE kept.release_id = r.id AND kept.version = sb.version AND kept.segment_key <> ALL(rs.withdrawn_segments))))
           ) v (version)
           WHERE ${appFilter('rs')} AND (rs.status = ANY($${params.length + 1}::text[]) OR cardinality(rs.withdrawn_segments) > 0)
           GROUP BY r.app_id, r.channel`,
          [...params, WITHDRAWN_STATUSES],
        ),
        db.query<OverrideRow>(
          `SELECT ${OVERRIDE_COLUMNS} FROM device_channel_overrides o WHERE ${appFilter('o')} AND ${inForce(params.length + 1)}`,
          [...params, ttl],
        ),
      ]);
      const revisionsByApp = new Map(revisions.rows.map((r) => [r.id, mapRevisions(r)]));
      const releasesByApp = byApp(await withExperiments(releases.rows.map(mapRow)), (r) => r.appId);
      const withdrawnByApp = byApp(withdrawn.rows, (r) => r.app_id);
      const overridesByApp = byApp(overrides.rows, (r) => r.app_id);
      return definitions.map((d) => ({
        ...d,
        revisions: revisionsByApp.get(d.appId) ?? { appId: d.appId, definitions: 0, overrides: 0 },
        releases: releasesByApp.get(d.appId) ?? [],
        withdrawn: (withdrawnByApp.get(d.appId) ?? []).map((w) => ({ appId: w.app_id, channel: w.channel, versions: w.versions })),
        overrides: (overridesByApp.get(d.appId) ?? []).map(mapOverrideRow),
      }));
    },
    async revisions() {
      const { rows } = await db.query<RevisionRow>('SELECT a.id, a.definitions_revision, a.overrides_revision FROM apps a');
      return rows.map(mapRevisions);
    },
    async definitions(appId) {
      const { rows } = await db.query<{ revision: number }>('SELECT a.definitions_revision AS revision FROM apps a WHERE a.id = $1', [appId]);
      const definitions = rows[0] && (await readDefinitions(appId))[0];
      return definitions ? { definitions, revision: rows[0]!.revision } : null;
    },
    async releases(releaseIds) {
      if (releaseIds.length === 0) return [];
      const { rows } = await db.query<ServingRow>(`${SELECT} WHERE rs.release_id = ANY($1::text[])`, [releaseIds]);
      return withExperiments(rows.map(mapRow));
    },
    async overrides(appId) {
      // One statement, one view of the data: the revision matches the rows exactly.
      const { rows } = await db.query<OverrideRow & { revision: number }>(
        `SELECT ${OVERRIDE_COLUMNS}, a.overrides_revision AS revision
         FROM apps a LEFT JOIN device_channel_overrides o ON o.app_id = a.id AND ${inForce(2)}
         WHERE a.id = $1`,
        [appId, ttl],
      );
      return { overrides: rows.filter((r) => r.device_id !== null).map(mapOverrideRow), revision: rows[0]?.revision ?? 0 };
    },
    async overridesOf(appId, deviceIds) {
      const { rows } = await db.query<OverrideRow>(
        `SELECT ${OVERRIDE_COLUMNS} FROM device_channel_overrides o WHERE o.app_id = $1 AND o.device_id = ANY($3::text[]) AND ${inForce(2)}`,
        [appId, ttl, deviceIds],
      );
      return rows.map(mapOverrideRow);
    },
    async now() {
      const { rows } = await db.query<{ now: Date }>('SELECT now() AS now');
      return rows[0]!.now;
    },
    async publishedSince(since) {
      const { rows } = await db.query<{ app_id: string | null; release_id: string | null; revision: number | null; now: Date }>(
        `SELECT rs.app_id, rs.release_id, rs.revision, clock.now
         FROM (SELECT now() AS now) clock LEFT JOIN rollout_state rs ON rs.published_at > $1`,
        [since],
      );
      const published = rows.flatMap((r) => (r.release_id && r.app_id && r.revision !== null ? [{ appId: r.app_id, releaseId: r.release_id, revision: r.revision }] : []));
      return { published, now: rows[0]!.now };
    },
    async lapsedSince(since) {
      if (ttl === null) return { lapsed: [], until: null };
      const { rows } = await db.query<{ app_id: string | null; device_id: string | null; until: Date }>(
        `SELECT o.app_id, o.device_id, clock.until
         FROM (SELECT now() - make_interval(secs => $1::float8 / 1000) AS until) clock
         LEFT JOIN device_channel_overrides o
           ON $2::timestamptz IS NOT NULL AND o.source = 'self' AND o.created_at <= clock.until AND o.created_at > $2`,
        [ttl, since],
      );
      const lapsed = rows.flatMap((r) => (r.app_id && r.device_id ? [{ appId: r.app_id, deviceId: r.device_id }] : []));
      return { lapsed, until: rows[0]!.until };
    },
  };
}
