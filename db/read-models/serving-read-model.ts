import type { BundleRef, Platform } from '../../domain/bundle';
import type { ServingRelease } from '../../domain/serving';
import type { Channel } from '../../domain/channel';
import type { SegmentDefinition } from '../../domain/segment';
import type { SecretBox } from '../../platform/secret-box';
import type { Queryable } from '../create-pool';
import { mapOverrideRow, OVERRIDE_COLUMNS, type DeviceOverride, type OverrideRow } from '../stores/channel-override-store';
import { CHANNEL_COLUMNS, mapChannelRow, type ChannelRow } from '../stores/channel-store';
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
  };
}

const SELECT = `
  SELECT r.id AS release_id, r.app_id, r.channel, r.bucket_salt, r.window_ms, r.created_at,
         rs.revision, rs.status, rs.stage_index, rs.exposure, rs.published_at,
         t.version AS t_version, t.url AS t_url, t.sha256 AS t_sha256, t.size AS t_size, t.platforms AS t_platforms,
         t.native_range AS t_native_range, t.session_key AS t_session_key,
         t.encrypted_checksum AS t_encrypted_checksum, t.signature AS t_signature,
         f.version AS f_version, f.url AS f_url, f.sha256 AS f_sha256, f.size AS f_size, f.platforms AS f_platforms,
         f.native_range AS f_native_range, f.session_key AS f_session_key,
         f.encrypted_checksum AS f_encrypted_checksum, f.signature AS f_signature
  FROM rollout_state rs
  JOIN releases r ON r.id = rs.release_id
  JOIN bundles t ON t.app_id = r.app_id AND t.version = r.version
  LEFT JOIN bundles f ON f.app_id = r.app_id AND f.version = r.baseline_version`;

export interface AppServingSource {
  appId: string;
  releases: ServingRelease[];
  channels: Channel[];
  segments: SegmentDefinition[];
  overrides: DeviceOverride[];
  /** The app's active key, opened: answers are signed from memory. null until the app has one. */
  signingKey: { id: string; privateKeyPem: string } | null;
}

/** The joins the device-facing snapshot is built from: each app with its channels, segments, overrides and published releases. */
export interface ServingReadModel {
  loadAll(): Promise<AppServingSource[]>;
  /** null when the app does not exist. */
  loadApp(appId: string): Promise<AppServingSource | null>;
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

async function load(db: Queryable, box: SecretBox, appId: string | null, selfAssignmentTtlMs: number | null): Promise<AppServingSource[]> {
  const filter = (alias: string) => (appId === null ? '' : `WHERE ${alias}.app_id = $1`);
  const params = appId === null ? [] : [appId];
  const [apps, releases, channels, segments, overrides, keys] = await Promise.all([
    db.query<{ id: string }>(`SELECT a.id FROM apps a ${appId === null ? '' : 'WHERE a.id = $1'}`, params),
    db.query<ServingRow>(`${SELECT} ${filter('r')} ORDER BY r.app_id, r.created_at`, params),
    db.query<ChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM channels c ${filter('c')}`, params),
    db.query<SegmentRow>(`SELECT ${SEGMENT_COLUMNS} FROM segments s ${filter('s')} ORDER BY s.priority, s.key`, params),
    // A device's own choice lapses unless renewed: legacy plugins that went away stop costing memory.
    db.query<OverrideRow>(
      `SELECT ${OVERRIDE_COLUMNS} FROM device_channel_overrides o
       WHERE (o.source = 'admin' OR $${params.length + 1}::float8 IS NULL OR o.created_at > now() - make_interval(secs => $${params.length + 1}::float8 / 1000))
       ${appId === null ? '' : 'AND o.app_id = $1'}`,
      [...params, selfAssignmentTtlMs],
    ),
    db.query<{ app_id: string; id: string; private_key: string }>(
      `SELECT k.app_id, k.id, k.private_key FROM app_signing_keys k WHERE k.retired_at IS NULL ${appId === null ? '' : 'AND k.app_id = $1'}`,
      params,
    ),
  ]);
  const keysByApp = new Map(keys.rows.map((k) => [k.app_id, { id: k.id, privateKeyPem: box.open(k.private_key) }]));
  const releasesByApp = byApp(releases.rows.map(mapRow), (r) => r.appId);
  const channelsByApp = byApp(channels.rows, (r) => r.app_id);
  const segmentsByApp = byApp(segments.rows, (r) => r.app_id);
  const overridesByApp = byApp(overrides.rows, (r) => r.app_id);
  return apps.rows.map(({ id }) => ({
    appId: id,
    releases: releasesByApp.get(id) ?? [],
    channels: (channelsByApp.get(id) ?? []).map(mapChannelRow),
    segments: (segmentsByApp.get(id) ?? []).map(mapSegmentRow),
    overrides: (overridesByApp.get(id) ?? []).map(mapOverrideRow),
    signingKey: keysByApp.get(id) ?? null,
  }));
}

/** `selfAssignmentTtlMs`: how long a device's own channel choice is served after it was made; null: for ever. */
export function createServingReadModel(db: Queryable, box: SecretBox, selfAssignmentTtlMs: number | null = null): ServingReadModel {
  return {
    loadAll: () => load(db, box, null, selfAssignmentTtlMs),
    async loadApp(appId) {
      return (await load(db, box, appId, selfAssignmentTtlMs))[0] ?? null;
    },
  };
}
