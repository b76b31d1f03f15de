import type { Stores } from '../../db/create-stores';
import type { DeviceProfile } from '../../db/stores/device-profile-store';
import type { RecentDeviceEvent } from '../../db/stores/device-event-store';
import type { Principal } from '../../domain/access';
import { BUILTIN_VERSION, PLATFORMS, type Platform } from '../../domain/bundle';
import { explainAssignment, type AssignmentExplanation, type ProfiledDevice } from '../../domain/device-story';
import { NotFoundError } from '../../domain/errors/not-found-error';
import { UnavailableError } from '../../domain/errors/unavailable-error';
import { ValidationError } from '../../domain/errors/validation-error';
import { ruleAttributes } from '../../domain/segment-rules';
import { daysSince, HOUR_MS } from '../../domain/time';
import type { CheckResult } from '../device/device-service';
import type { RolloutSnapshot } from '../snapshot/rollout-snapshot';
import type { AppService } from './app-service';

/** How many raw events a device's story shows. */
export const STORY_EVENT_LIMIT = 50;

/** A Capgo answer depends on the plugin; a profile that does not name it is explained for a current one. */
export const ASSUMED_CAPGO_PLUGIN_VERSION = '8.0.0';

export interface DeviceStory {
  profile: DeviceProfile;
  daysSinceFirstSeen: number;
  /** The device context the explanation assumed, taken from the profile. */
  device: ProfiledDevice;
  explanation: AssignmentExplanation;
  /** The explanation as an update check's result, for the protocols' answer builders. */
  check: CheckResult;
  capgoPluginVersion: string;
  events: RecentDeviceEvent[];
}

export interface AdoptionQuery {
  /** Undefined: every channel of the app. */
  channel?: string | undefined;
  windowHours: number;
}

export interface Adoption {
  appId: string;
  channel: string | null;
  windowHours: number;
  since: Date;
  activeDevices: number;
  /** Most devices first; `share` is a fraction of `activeDevices`. */
  versions: Array<{ bundleVersion: string | null; devices: number; share: number }>;
}

export interface DeviceStoryService {
  /** Why the device gets the answer it gets, from its stored profile (NotFoundError: never checked in). */
  story(appId: string, deviceId: string, principal: Principal): Promise<DeviceStory>;
  /** Which bundle versions the devices active in the window run. */
  adoption(appId: string, query: AdoptionQuery, principal: Principal): Promise<Adoption>;
}

export interface DeviceStoryServiceDeps {
  stores: Pick<Stores, 'deviceProfiles' | 'deviceEvents' | 'channels' | 'appAdoption'>;
  apps: AppService;
  snapshot: Pick<RolloutSnapshot, 'app'>;
}

const isPlatform = (value: string | null): value is Platform => (PLATFORMS as readonly (string | null)[]).includes(value);

function profiledDevice(profile: DeviceProfile, now: number): ProfiledDevice {
  return {
    deviceId: profile.deviceId,
    platform: isPlatform(profile.platform) ? profile.platform : null,
    nativeVersion: profile.nativeVersion ?? '',
    bundleVersion: profile.bundleVersion ?? BUILTIN_VERSION,
    channel: profile.channel,
    attributes: ruleAttributes(profile.attributes),
    sessionsLast7d: profile.sessionsLast7d,
    daysSinceFirstSeen: daysSince(profile.firstSeen.getTime(), now),
  };
}

// Code-unit order, like segment keys: the answer must not depend on the host's locale.
const byVersion = (a: string | null, b: string | null) => ((a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0);
const roundedShare = (devices: number, total: number) => Math.round((devices / total) * 10_000) / 10_000;

export function createDeviceStoryService(deps: DeviceStoryServiceDeps): DeviceStoryService {
  const { stores, apps, snapshot } = deps;
  return {
    async story(appId, deviceId, principal) {
      await apps.get(appId, principal);
      const now = Date.now();
      const [profile, events] = await Promise.all([
        stores.deviceProfiles.profile(appId, deviceId, new Date(now)),
        stores.deviceEvents.recent(appId, deviceId, STORY_EVENT_LIMIT),
      ]);
      if (!profile) throw new NotFoundError(`device ${deviceId} has not checked in with app ${appId} yet (profiles are written a few seconds after a check)`);
      const app = snapshot.app(appId);
      if (!app) throw new UnavailableError(`this API instance has not loaded app ${appId} yet; try again in a moment`);
      const device = profiledDevice(profile, now);
      const explanation = explainAssignment(app, device);
      const pluginVersion = device.attributes.pluginVersion;
      return {
        profile,
        daysSinceFirstSeen: device.daysSinceFirstSeen,
        device,
        explanation,
        check: { app, channel: explanation.channel.channel, segment: explanation.segment.segment, decision: explanation.decision },
        capgoPluginVersion: typeof pluginVersion === 'string' ? pluginVersion : ASSUMED_CAPGO_PLUGIN_VERSION,
        events,
      };
    },
    async adoption(appId, query, principal) {
      await apps.get(appId, principal);
      if (query.channel !== undefined) {
        const names = (await stores.channels.list(appId)).map((c) => c.name);
        if (!names.includes(query.channel)) {
          const message = `app ${appId} has no channel ${query.channel}; its channels: ${names.join(', ')}`;
          throw new ValidationError(message, [{ path: 'channel', message }]);
        }
      }
      const { since, versions: counts } = await stores.appAdoption.activeByBundle(appId, query.channel ?? null, new Date(Date.now() - query.windowHours * HOUR_MS));
      const activeDevices = counts.reduce((sum, c) => sum + c.devices, 0);
      const versions = counts
        .map((c) => ({ ...c, share: roundedShare(c.devices, activeDevices) }))
        .sort((a, b) => b.devices - a.devices || byVersion(a.bundleVersion, b.bundleVersion));
      return { appId, channel: query.channel ?? null, windowHours: query.windowHours, since, activeDevices, versions };
    },
  };
}
