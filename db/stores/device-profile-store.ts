import { arrayLiteral, col } from '../columns';
import type { Queryable } from '../create-pool';

export interface DeviceSighting {
  appId: string;
  deviceId: string;
  platform: string | null;
  nativeVersion: string | null;
  bundleVersion: string | null;
  channel: string | null;
  attributes: Record<string, unknown> | null;
  /** IANA zone the device reported; null or absent: keep what is stored. */
  timeZone?: string | null;
  seenAt: Date;
}

/** A check served the device in a release's canary or control slice (the trust model's `newcomer`). */
export interface ServedDevice {
  releaseId: string;
  deviceId: string;
  servedAt: Date;
}

export interface SessionCount {
  appId: string;
  deviceId: string;
  day: string;
  sessions: number;
}

export interface Engagement {
  firstSeen: Date;
  sessionsLast7d: number;
}

/** A device's stored profile, with its sessions of the last 7 days. */
export interface DeviceProfile {
  deviceId: string;
  platform: string | null;
  nativeVersion: string | null;
  bundleVersion: string | null;
  channel: string | null;
  attributes: Record<string, unknown>;
  /** IANA zone the device reported (native protocol); null: none, the app's default applies. */
  timeZone: string | null;
  firstSeen: Date;
  lastSeen: Date;
  sessionsLast7d: number;
}

export interface DeviceProfileStore {
  /** Folds sightings into profiles: first seen only moves back, last seen only forward. */
  upsertSightings(sightings: DeviceSighting[]): Promise<void>;
  addSessions(counts: SessionCount[]): Promise<void>;
  /** Records when each device was first served in its release's slices; later servings change nothing. */
  recordServed(served: ServedDevice[]): Promise<void>;
  /** Engagement of the given devices of one app as of `now`; devices never seen are missing. */
  engagement(appId: string, deviceIds: string[], now: Date): Promise<Map<string, Engagement>>;
  /**
   * Devices of the app's channel seen since `since` (widened to the start of its 5-minute activity
   * slot): the fleet a release of that channel meets. Read from the activity counters, not the profiles.
   */
  countActive(appId: string, channel: string, since: Date): Promise<number>;
  /**
   * Deletes up to `limit` activity counters that count no device (a device seen again leaves its old
   * slot at zero); returns how many went.
   */
  purgeEmptyActivitySlots(limit: number): Promise<number>;
  /** One device's profile as of `now`; null for a device never seen. */
  profile(appId: string, deviceId: string, now: Date): Promise<DeviceProfile | null>;
}

interface ProfileRow {
  device_id: string;
  platform: string | null;
  native_version: string | null;
  bundle_version: string | null;
  channel: string | null;
  attributes: Record<string, unknown>;
  time_zone: string | null;
  first_seen: Date;
  last_seen: Date;
  sessions: number;
}

// The same 7-day window as `engagement`, which segment rules read.
const SESSIONS_LAST_7D = `COALESCE((SELECT sum(s.sessions) FROM device_sessions_daily s
  WHERE s.app_id = d.app_id AND s.device_id = d.device_id AND s.day > ($3::timestamptz - interval '7 days')::date), 0)::int`;

export function createDeviceProfileStore(db: Queryable): DeviceProfileStore {
  return {
    async upsertSightings(rows) {
      if (rows.length === 0) return;
      await db.query(
        `INSERT INTO devices AS d (app_id, device_id, platform, native_version, bundle_version, channel, attributes, time_zone, first_seen, last_seen)
         SELECT u.app_id, u.device_id, u.platform, u.native_version, u.bundle_version, u.channel, COALESCE(u.attributes, '{}'::jsonb), u.time_zone, u.seen_at, u.seen_at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::timestamptz[], $9::text[])
           AS u (app_id, device_id, platform, native_version, bundle_version, channel, attributes, seen_at, time_zone)
         ON CONFLICT (app_id, device_id) DO UPDATE SET
           platform = COALESCE(EXCLUDED.platform, d.platform),
           native_version = COALESCE(EXCLUDED.native_version, d.native_version),
           bundle_version = COALESCE(EXCLUDED.bundle_version, d.bundle_version),
           channel = COALESCE(EXCLUDED.channel, d.channel),
           attributes = CASE WHEN EXCLUDED.attributes = '{}'::jsonb THEN d.attributes ELSE EXCLUDED.attributes END,
           time_zone = COALESCE(EXCLUDED.time_zone, d.time_zone),
           first_seen = LEAST(d.first_seen, EXCLUDED.first_seen),
           last_seen = GREATEST(d.last_seen, EXCLUDED.last_seen)`,
        [
          col(rows, 'appId'),
          col(rows, 'deviceId'),
          col(rows, 'platform'),
          col(rows, 'nativeVersion'),
          col(rows, 'bundleVersion'),
          col(rows, 'channel'),
          arrayLiteral(rows.map((r) => (r.attributes ? JSON.stringify(r.attributes) : null))),
          col(rows, 'seenAt'),
          arrayLiteral(rows.map((r) => r.timeZone ?? null)),
        ],
      );
    },
    async addSessions(rows) {
      if (rows.length === 0) return;
      await db.query(
        `INSERT INTO device_sessions_daily AS s (app_id, device_id, day, sessions)
         SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::int[])
         ON CONFLICT (app_id, device_id, day) DO UPDATE SET sessions = s.sessions + EXCLUDED.sessions`,
        [col(rows, 'appId'), col(rows, 'deviceId'), col(rows, 'day'), col(rows, 'sessions')],
      );
    },
    async recordServed(rows) {
      if (rows.length === 0) return;
      await db.query(
        `INSERT INTO release_served_devices AS s (release_id, device_id, first_served_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
         ON CONFLICT (release_id, device_id) DO UPDATE SET first_served_at = LEAST(s.first_served_at, EXCLUDED.first_served_at)`,
        [col(rows, 'releaseId'), col(rows, 'deviceId'), col(rows, 'servedAt')],
      );
    },
    async countActive(appId, channel, since) {
      const { rows } = await db.query<{ n: number }>(
        `SELECT COALESCE(sum(s.devices), 0)::int AS n FROM device_activity_slots s
         WHERE s.app_id = $1 AND s.channel = $3 AND s.slot >= device_activity_slot($2::timestamptz)`,
        [appId, since, channel],
      );
      return rows[0]!.n;
    },
    async purgeEmptyActivitySlots(limit) {
      // SKIP LOCKED: the sweep never waits on a row a profile writer holds, so it cannot deadlock with
      // one (writers lock counters under their advisory lock, in key order; this takes neither).
      const result = await db.query(
        `DELETE FROM device_activity_slots WHERE ctid IN (
           SELECT s.ctid FROM device_activity_slots s WHERE s.devices = 0 LIMIT $1 FOR UPDATE SKIP LOCKED)`,
        [limit],
      );
      return result.rowCount ?? 0;
    },
    async engagement(appId, deviceIds, now) {
      const { rows } = await db.query<{ device_id: string; first_seen: Date; sessions: number }>(
        `SELECT d.device_id, d.first_seen, ${SESSIONS_LAST_7D} AS sessions
         FROM devices d WHERE d.app_id = $1 AND d.device_id = ANY($2)`,
        [appId, deviceIds, now],
      );
      return new Map(rows.map((r) => [r.device_id, { firstSeen: r.first_seen, sessionsLast7d: r.sessions }]));
    },
    async profile(appId, deviceId, now) {
      const { rows } = await db.query<ProfileRow>(
        `SELECT d.device_id, d.platform, d.native_version, d.bundle_version, d.channel, d.attributes, d.time_zone, d.first_seen, d.last_seen,
                ${SESSIONS_LAST_7D} AS sessions
         FROM devices d WHERE d.app_id = $1 AND d.device_id = $2`,
        [appId, deviceId, now],
      );
      const row = rows[0];
      return row
        ? {
            deviceId: row.device_id,
            platform: row.platform,
            nativeVersion: row.native_version,
            bundleVersion: row.bundle_version,
            channel: row.channel,
            attributes: row.attributes,
            timeZone: row.time_zone,
            firstSeen: row.first_seen,
            lastSeen: row.last_seen,
            sessionsLast7d: row.sessions,
          }
        : null;
    },
  };
}
