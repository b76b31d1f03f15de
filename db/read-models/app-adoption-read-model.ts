import type { Queryable } from '../create-pool';

export interface BundleVersionCount {
  /** Null: the device never said which bundle it runs. */
  bundleVersion: string | null;
  devices: number;
}

export interface ActiveByBundle {
  /**
   * Start of the window actually counted: the requested one widened to the start of its counting
   * slot (device_activity_slot, 5 minutes), so an answer adds up whole slots.
   */
  since: Date;
  versions: BundleVersionCount[];
}

export interface AppAdoptionReadModel {
  /** Devices last seen since `since` (see ActiveByBundle.since) per bundle version, on one channel or (null) all of the app's. */
  activeByBundle(appId: string, channel: string | null, since: Date): Promise<ActiveByBundle>;
}

// Reads device_activity_slots (migration 0015), which triggers on `devices` keep: a few hundred
// counter rows for a day's window instead of every profile active in it.
const versionsSql = (channelFilter: string) => `
  SELECT device_activity_slot($2::timestamptz) AS since,
         COALESCE((
           SELECT json_agg(json_build_object('bundleVersion', v.bundle_version, 'devices', v.devices))
           FROM (SELECT s.bundle_version, sum(s.devices)::int AS devices
                 FROM device_activity_slots s
                 WHERE s.app_id = $1 AND s.slot >= device_activity_slot($2::timestamptz) ${channelFilter}
                 GROUP BY s.bundle_version
                 HAVING sum(s.devices) > 0) v
         ), '[]'::json) AS versions`;

const ALL_CHANNELS_SQL = versionsSql('');
const ONE_CHANNEL_SQL = versionsSql('AND s.channel = $3');

export function createAppAdoptionReadModel(db: Queryable): AppAdoptionReadModel {
  return {
    async activeByBundle(appId, channel, since) {
      const { rows } = await db.query<{ since: Date; versions: BundleVersionCount[] }>(
        channel === null ? ALL_CHANNELS_SQL : ONE_CHANNEL_SQL,
        channel === null ? [appId, since] : [appId, since, channel],
      );
      return rows[0]!;
    },
  };
}
