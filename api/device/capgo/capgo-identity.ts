import semver from 'semver';
import { BUILTIN_VERSION } from '../../../domain/bundle';
import type { AttributeValue } from '../../../domain/segment-rules';
import { deviceIdentity, type DeviceIdentity } from '../device-service';
import type { CAPGO_PLATFORMS } from './capgo-schemas';

/** The InfoObject fields Rampart uses, whichever endpoint they came with. */
export interface CapgoDevice {
  app_id: string;
  device_id: string;
  platform: (typeof CAPGO_PLATFORMS)[number];
  is_emulator: boolean;
  is_prod: boolean;
  version_build?: string | undefined;
  version_name?: string | undefined;
  defaultChannel?: string | undefined;
  custom_id?: string | undefined;
  install_source?: string | undefined;
  version_os?: string | undefined;
  plugin_version?: string | undefined;
}

/** What segment rules can match on, named as the rest of Rampart names attributes. */
function attributesOf(device: CapgoDevice): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = { isEmulator: device.is_emulator, isProd: device.is_prod };
  // Empty strings mean "not set" on the plugin side (custom_id before setCustomId, sideloaded installs).
  if (device.custom_id) attributes.customId = device.custom_id;
  if (device.install_source) attributes.installSource = device.install_source;
  if (device.version_os) attributes.versionOs = device.version_os;
  if (device.plugin_version) attributes.pluginVersion = device.plugin_version;
  return attributes;
}

/**
 * `version_name` stays `builtin` (Capgo substitutes the native version): Rampart names the binary's
 * bundle `builtin`, so a bundle that happens to share the native version is not mistaken for it.
 */
export function identityOf(device: CapgoDevice, bundleVersion = device.version_name || BUILTIN_VERSION, requestedChannel = device.defaultChannel || undefined): DeviceIdentity {
  return deviceIdentity({
    appId: device.app_id,
    deviceId: device.device_id,
    platform: device.platform,
    nativeVersion: device.version_build || 'unknown',
    bundleVersion,
    requestedChannel,
    attributes: attributesOf(device),
  });
}

/**
 * Plugins before 5.34.0 / 6.34.0 / 7.34.0 keep no channel of their own: the server has to persist
 * what they set. A version that does not parse is treated as old, as Capgo does.
 */
export function storesChannelOnServer(pluginVersion: string | undefined): boolean {
  const version = pluginVersion === undefined ? null : semver.parse(pluginVersion);
  if (!version) return true;
  if (version.major >= 8) return false;
  if (version.major < 5) return true;
  return semver.lt(version, `${version.major}.34.0`);
}

/** Capgo refuses plugin 4.x and older outright. */
export function isUnsupportedPlugin(pluginVersion: string): boolean {
  return semver.major(pluginVersion) <= 4;
}

/** Plugins before 6.2.0 cannot go back to the bundle inside the binary. */
export function canRevertToBuiltin(pluginVersion: string): boolean {
  return semver.gte(pluginVersion, '6.2.0');
}
