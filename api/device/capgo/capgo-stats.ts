import semver from 'semver';
import { isPlausibleEventTime, type EventType } from '../../../domain/telemetry';
import type { IncomingEvent } from '../../telemetry/telemetry-service';
import { splitVersionName, type StatsEvent } from './capgo-schemas';

/** The bundle or its delivery pipeline failed (reference §5.5); device conditions such as low memory are not the bundle's fault. */
const INSTALL_FAILURES: ReadonlySet<string> = new Set([
  'download_fail',
  'download_manifest_file_fail',
  'download_manifest_checksum_fail',
  'download_manifest_brotli_fail',
  'manifest_path_fail',
  'finish_download_fail',
  'checksum_fail',
  'checksum_required',
  'session_key_required',
  'decrypt_fail',
  'unzip_fail',
  'set_fail',
  'windows_path_fail',
  'canonical_path_fail',
  'directory_path_fail',
]);

const CRASHES: ReadonlySet<string> = new Set(['app_crash', 'app_crash_native', 'app_anr', 'app_initialization_failure', 'app_killed_excessive_resource_usage']);

const JS_ERRORS: ReadonlySet<string> = new Set([
  'webview_javascript_error',
  'webview_unhandled_rejection',
  'webview_render_process_gone',
  'webview_content_process_terminated',
  'webview_unclean_restart',
]);

const SESSION_STARTS: ReadonlySet<string> = new Set(['app_launch_start', 'app_moved_to_foreground']);

/**
 * The other actions Capgo's own backend accepts (its `ALLOWED_STATS_ACTIONS`, plugin 8.x included):
 * each keeps a metric label of its own. Anything else becomes `capgo:other`, so a device inventing
 * action names cannot mint Prometheus series; the original action stays in the event's details.
 */
const OTHER_KNOWN_ACTIONS: ReadonlySet<string> = new Set([
  'ping', 'delete', 'reset', 'set', 'get', 'low_mem_fail', 'insufficient_disk_space', 'download_fail', 'uninstall', 'rate_limit_reached',
  'download_0', 'download_10', 'download_20', 'download_30', 'download_40', 'download_50', 'download_60', 'download_70', 'download_80', 'download_90',
  'download_complete', 'download_manifest_start', 'download_manifest_complete', 'download_zip_start', 'download_zip_complete',
  'needPlanUpgrade', 'missingBundle', 'noNew', 'disablePlatformIos', 'disablePlatformAndroid', 'disableAutoUpdateToMajor',
  'cannotUpdateViaPrivateChannel', 'disableAutoUpdateToMinor', 'disableAutoUpdateToPatch', 'channelMisconfigured',
  'disableAutoUpdateMetadata', 'disableAutoUpdateUnderNative', 'disableDevBuild', 'disableEmulator', 'cannotGetBundle',
  'NoChannelOrOverride', 'setChannel', 'getChannel', 'rateLimited', 'disableAutoUpdate', 'InvalidIp', 'blocked_by_server_url',
  'app_ready', 'app_launch_ready', 'app_launch_timeout', 'app_killed_low_memory', 'app_memory_warning',
  'webview_resource_error', 'webview_security_policy_violation', 'webview_dom_content_loaded', 'webview_page_loaded',
  'os_version_changed', 'native_app_version_changed',
]);

/** Plugins before 7.17.0 (6.14.25 on 6.x) sent `download_fail` when there was merely no update. */
function reportsRealDownloadFailures(pluginVersion: string | undefined): boolean {
  const version = pluginVersion === undefined ? null : semver.valid(pluginVersion);
  if (!version) return false;
  return semver.gte(version, '7.17.0') || (semver.major(version) === 6 && semver.gte(version, '6.14.25'));
}

/**
 * The Rampart event type of a Capgo action. Everything without a Rampart meaning is kept under
 * `capgo:<action>`, and actions Capgo does not know (newer plugins may add some) under `capgo:other`:
 * storing them beats rejecting the batch.
 */
export function eventTypeOf(stat: Pick<StatsEvent, 'action' | 'old_version_name' | 'plugin_version'>, bundleVersion: string): EventType | `capgo:${string}` {
  const { action } = stat;
  if (action === 'set') return stat.old_version_name === bundleVersion ? 'capgo:set' : 'install_ok';
  if (action === 'update_fail') return 'boot_failed';
  if (action === 'download_fail' && !reportsRealDownloadFailures(stat.plugin_version)) return 'capgo:download_fail';
  if (INSTALL_FAILURES.has(action)) return 'install_failed';
  if (CRASHES.has(action)) return 'crash';
  if (JS_ERRORS.has(action)) return 'js_error';
  if (SESSION_STARTS.has(action)) return 'session_start';
  if (action === 'app_moved_to_background') return 'session_end';
  return OTHER_KNOWN_ACTIONS.has(action) ? `capgo:${action}` : 'capgo:other';
}

/** The device clock is trusted within the window the native protocol accepts; otherwise the receipt time stands. */
function occurredAt(timestamp: number | undefined, receivedAt: number): Date {
  return timestamp !== undefined && isPlausibleEventTime(timestamp, receivedAt) ? new Date(timestamp) : new Date(receivedAt);
}

/** The bundle a stats event is about; an empty `version_name` names none. */
export function statsBundleVersion(stat: Pick<StatsEvent, 'version_name'>): string {
  return splitVersionName(stat.version_name).bundle || 'unknown';
}

/** One Capgo stats event as Rampart telemetry; the original action and metadata stay in `details`. */
export function toIncomingEvent(stat: StatsEvent, receivedAt: number): IncomingEvent {
  const bundleVersion = statsBundleVersion(stat);
  const { file } = splitVersionName(stat.version_name);
  const at = occurredAt(stat.timestamp, receivedAt);
  return {
    type: eventTypeOf(stat, bundleVersion),
    at,
    bundleVersion,
    details: {
      action: stat.action,
      ...(file !== null ? { file } : {}),
      ...(stat.old_version_name ? { oldVersionName: stat.old_version_name } : {}),
      ...(stat.metadata ? { metadata: stat.metadata } : {}),
      ...(stat.timestamp !== undefined && at.getTime() !== stat.timestamp ? { deviceTimestamp: stat.timestamp } : {}),
    },
    // Capgo's rule: emulators and debug builds never count against a bundle.
    countsForGates: stat.is_prod && !stat.is_emulator,
  };
}
