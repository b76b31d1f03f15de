import type { ChannelOverride, OverrideSource } from '../../domain/channel';
import type { Queryable } from '../create-pool';

export interface DeviceOverride extends ChannelOverride {
  deviceId: string;
}

export interface ChannelOverrideStore {
  set(appId: string, deviceId: string, channel: string, source: OverrideSource): Promise<void>;
  /** Removes the device's override, only if it has this source when one is given. */
  remove(appId: string, deviceId: string, source?: OverrideSource): Promise<boolean>;
}

/** Overrides are read only into the serving snapshot (db/read-models), with these columns. */
export interface OverrideRow {
  app_id: string;
  device_id: string;
  channel: string;
  source: OverrideSource;
}

export const OVERRIDE_COLUMNS = 'o.app_id, o.device_id, o.channel, o.source';
export const mapOverrideRow = (r: OverrideRow): DeviceOverride => ({ deviceId: r.device_id, channel: r.channel, source: r.source });

export function createChannelOverrideStore(db: Queryable): ChannelOverrideStore {
  return {
    async set(appId, deviceId, channel, source) {
      await db.query(
        `INSERT INTO device_channel_overrides (app_id, device_id, channel, source) VALUES ($1, $2, $3, $4)
         ON CONFLICT (app_id, device_id) DO UPDATE SET channel = EXCLUDED.channel, source = EXCLUDED.source, created_at = now()`,
        [appId, deviceId, channel, source],
      );
    },
    async remove(appId, deviceId, source) {
      const { rowCount } = await db.query(
        'DELETE FROM device_channel_overrides WHERE app_id = $1 AND device_id = $2 AND ($3::text IS NULL OR source = $3)',
        [appId, deviceId, source ?? null],
      );
      return rowCount === 1;
    },
  };
}
