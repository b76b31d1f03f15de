import { isSelectable, publicChannelFor, type Channel } from '../../../domain/channel';
import type { DeviceService } from '../device-service';
import type { RateVerdict } from '../rate-limiter';
import { identityOf, storesChannelOnServer } from './capgo-identity';
import type { CAPGO_PLATFORMS, ChannelSelfRequest, StatsEvent, StatsUpload } from './capgo-schemas';
import { statsBundleVersion, toIncomingEvent } from './capgo-stats';

type CapgoPlatform = (typeof CAPGO_PLATFORMS)[number];

/** What became of a device's request for a channel of its own (`channel_self` POST). */
export type SelfAssignment =
  /** An admin's choice outranks the device's, whatever the plugin would store. */
  | 'admin_override'
  | 'unknown_channel'
  /** The channel allows self-assignment, but not for the device's platform. */
  | 'wrong_platform'
  | 'not_self_assignable'
  /** The public default, for a plugin that keeps no channel: any channel stored for it is dropped. */
  | 'default'
  /** The public default, for a plugin that keeps its channel: it should drop the one it keeps. */
  | 'unset'
  /** Kept server-side, for a plugin that keeps no channel of its own. */
  | 'stored'
  /** Refused: the app holds as many server-kept choices as it may. */
  | 'too_many'
  /** Allowed; the plugin keeps the choice itself. */
  | 'kept_by_device';

/** The channel a device is served from, as `channel_self` PUT reports it. */
export interface ChannelReport {
  channel: string;
  status: 'override' | 'default';
  /** Whether the device may choose another channel itself. */
  allowSet: boolean;
}

/** The Capgo protocol's questions, answered with the DeviceService. Undefined: an unknown app. */
export interface CapgoDeviceService {
  /**
   * Reports a stats upload per device, the newest event of each telling what it runs. Every device
   * of the upload is admitted first: the verdict of the first one over its rate limit is returned.
   */
  reportStats(upload: StatsUpload): Promise<RateVerdict | undefined>;
  selfAssign(request: Pick<ChannelSelfRequest, 'app_id' | 'device_id' | 'platform' | 'plugin_version'>, channel: string): Promise<SelfAssignment | undefined>;
  /** null: no channel serves the device. */
  channelOf(request: ChannelSelfRequest): ChannelReport | null | undefined;
  /** The channels a device of the platform may choose, by name. */
  selectableChannels(appId: string, platform: CapgoPlatform): Channel[] | undefined;
  /** Drops the device's own channel choice (legacy plugins); an admin override stays. */
  unsetChannel(appId: string, deviceId: string): Promise<'unset' | 'admin_override' | undefined>;
}

function byDevice(upload: StatsUpload): Map<string, StatsEvent[]> {
  const grouped = new Map<string, StatsEvent[]>();
  for (const parsed of upload.events) {
    if (!parsed.ok) continue;
    const stats = grouped.get(parsed.value.device_id);
    if (stats) stats.push(parsed.value);
    else grouped.set(parsed.value.device_id, [parsed.value]);
  }
  return grouped;
}

export function createCapgoDeviceService(deps: { devices: DeviceService }): CapgoDeviceService {
  const { devices } = deps;
  return {
    async reportStats(upload) {
      const { appId } = upload;
      // Unknown apps never reach the rate limiter: its memory must not grow with made-up app ids.
      const app = devices.app(appId);
      if (!app) return undefined;
      const grouped = byDevice(upload);
      for (const deviceId of grouped.keys()) {
        const verdict = devices.admit(appId, deviceId);
        if (!verdict.allowed) return verdict;
      }
      const receivedAt = Date.now();
      await Promise.all(
        [...grouped.values()].map((stats) => {
          const latest = stats.at(-1)!;
          return devices.report(
            app,
            identityOf(latest, statsBundleVersion(latest)),
            stats.map((s) => toIncomingEvent(s, receivedAt)),
          );
        }),
      );
      return { allowed: true };
    },

    async selfAssign({ app_id: appId, device_id: deviceId, platform, plugin_version: pluginVersion }, channel) {
      const app = devices.app(appId);
      if (!app) return undefined;
      const override = app.overrides.get(deviceId);
      if (override?.source === 'admin') return 'admin_override';
      const target = app.channels.get(channel);
      if (!target) return 'unknown_channel';
      const legacy = storesChannelOnServer(pluginVersion);
      if (publicChannelFor(app.channels, platform)?.name === channel) {
        if (override) await devices.clearSelfAssignment(appId, deviceId);
        return legacy ? 'default' : 'unset';
      }
      if (!isSelectable(target, platform)) return target.allowSelfAssign ? 'wrong_platform' : 'not_self_assignable';
      if (legacy) {
        return (await devices.selfAssign(appId, deviceId, channel)) ? 'stored' : 'too_many';
      }
      // A choice stored for an older plugin on this device would outrank the one the plugin now keeps.
      if (override) await devices.clearSelfAssignment(appId, deviceId);
      return 'kept_by_device';
    },

    channelOf(request) {
      const app = devices.app(request.app_id);
      if (!app) return undefined;
      const resolved = devices.resolve(app, identityOf(request, undefined, request.channel || request.defaultChannel || undefined));
      if (resolved.channel === null) return null;
      const override = resolved.app.overrides.get(request.device_id);
      const overridden = override?.channel === resolved.channel;
      if (overridden && override.source === 'admin') return { channel: resolved.channel, status: 'override', allowSet: false };
      // New plugins send the channel they keep; it is theirs to report unless an admin forced another.
      if (request.channel) return { channel: request.channel, status: 'override', allowSet: true };
      const allowSet = resolved.app.channels.get(resolved.channel)?.allowSelfAssign ?? false;
      return { channel: resolved.channel, status: overridden ? 'override' : 'default', allowSet };
    },

    selectableChannels(appId, platform) {
      const app = devices.app(appId);
      return app && [...app.channels.values()].filter((c) => isSelectable(c, platform)).sort((a, b) => a.name.localeCompare(b.name));
    },

    async unsetChannel(appId, deviceId) {
      const app = devices.app(appId);
      if (!app) return undefined;
      if (app.overrides.get(deviceId)?.source === 'admin') return 'admin_override';
      await devices.clearSelfAssignment(appId, deviceId);
      return 'unset';
    },
  };
}
