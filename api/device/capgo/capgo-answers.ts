import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { BUILTIN_VERSION, type BundleRef } from '../../../domain/bundle';
import type { Channel } from '../../../domain/channel';
import type { CheckResult } from '../device-service';
import type { SelfAssignment } from './capgo-device-service';
import { canRevertToBuiltin, isUnsupportedPlugin } from './capgo-identity';
import type { CapgoProblem, ChannelSelfRequest, StatsUpload, UpdateRequest } from './capgo-schemas';

/** How plugin ≥ 8.45.11 classifies a non-update answer; without it, it assumes `failed`. */
export type UpdateKind = 'up_to_date' | 'blocked' | 'failed';

/** Success shape: neither `error` nor `kind`, or the plugin treats it as a non-update. */
export interface BundleAnswer {
  version: string;
  url: string;
  checksum: string;
  session_key: string;
}

export interface OutcomeAnswer {
  error: string;
  message: string;
  kind: UpdateKind;
  [extra: string]: unknown;
}

export type UpdateAnswer = BundleAnswer | { version: typeof BUILTIN_VERSION } | OutcomeAnswer;

const outcome = (kind: UpdateKind, error: string, message: string, extra: Record<string, unknown> = {}): OutcomeAnswer => ({ error, message, ...extra, kind });

const UP_TO_DATE: OutcomeAnswer = outcome('up_to_date', 'no_new_version_available', 'No new version available');

function bundleAnswer(bundle: BundleRef): BundleAnswer {
  return { version: bundle.version, url: bundle.url, checksum: bundle.encryptedChecksum ?? bundle.sha256, session_key: bundle.sessionKey ?? '' };
}

/**
 * The Capgo answer to a device's check. A store update is only announced once the device runs the
 * best bundle its binary can take: an update to the baseline goes first.
 */
export function updateAnswer(result: CheckResult, device: Pick<UpdateRequest, 'version_build' | 'plugin_version'>): UpdateAnswer {
  if (isUnsupportedPlugin(device.plugin_version)) {
    return outcome('failed', 'unsupported_plugin_version', `Plugin version ${device.plugin_version} is no longer supported. Please upgrade to v5.10.0 or later.`);
  }
  if (result.channel === null) return outcome('failed', 'no_channel', 'No channel or override found for this device');
  const { decision } = result;
  switch (decision.action) {
    case 'update':
      return bundleAnswer(decision.bundle);
    case 'rollback':
      if (decision.bundle) return bundleAnswer(decision.bundle);
      if (!canRevertToBuiltin(device.plugin_version)) {
        return outcome('failed', 'revert_to_builtin_plugin_version_too_old', 'Plugins before 6.2.0 cannot revert to the builtin bundle');
      }
      // Plugin 8.x only resets on the success shape, not on Capgo's `already_on_builtin` error.
      return { version: BUILTIN_VERSION };
    case 'none': {
      if (decision.nativeUpdate === null) return UP_TO_DATE;
      // `message: store_update_required` (and this error code, for older plugins) fire `breakingAvailable`.
      return outcome('blocked', 'disable_auto_update_to_major', 'store_update_required', {
        major: true,
        version: decision.nativeUpdate.version,
        old: device.version_build,
        nativeRange: decision.nativeUpdate.nativeRange,
      });
    }
  }
}

export function badRequest(res: Response, problem: CapgoProblem): void {
  res.status(400).json(problem);
}

/** Capgo's deliberate answer for unknown apps: indistinguishable from other refusals, against enumeration. */
export function onPremiseApp(res: Response): void {
  res.status(429).json({ error: 'on_premise_app', message: 'On-premise app detected' });
}

/** The plugin honours `Retry-After` first, then `moreInfo.retryAfterSeconds`, then `rateLimitResetAt`. */
/** Per-event results for a batch; a single event gets a bare `ok` (it was refused as a whole if bad). */
export function statsAnswer(upload: StatsUpload) {
  if (!upload.batch) return { status: 'ok' };
  return {
    status: 'ok',
    results: upload.events.map((p, index) => (p.ok ? { status: 'ok', index } : { status: 'error', ...p.problem, index })),
  };
}

export const CANNOT_OVERRIDE = { error: 'cannot_override', message: "Cannot change device override current channel don't allow it" };
export const CHANNEL_NOT_FOUND = { error: 'channel_not_found', message: 'Cannot find channel' };

/** `channel_self` POST: refusals are 200s with an `error`, as Capgo answers them. */
export function selfAssignAnswer(outcome: SelfAssignment, request: Pick<ChannelSelfRequest, 'app_id' | 'platform'>, channel: string) {
  const refused = (problem: { error: string; message: string }) => ({ ...problem, channel, app_id: request.app_id });
  const notAllowed = (message: string) => refused({ error: 'channel_self_set_not_allowed', message });
  switch (outcome) {
    case 'admin_override':
      return CANNOT_OVERRIDE;
    case 'unknown_channel':
      return refused(CHANNEL_NOT_FOUND);
    case 'wrong_platform':
      return notAllowed(`This channel does not serve ${request.platform} devices`);
    case 'not_self_assignable':
      return notAllowed('This channel does not allow devices to self associate');
    case 'too_many':
      return notAllowed('Too many devices of this app have chosen a channel; update the plugin (it keeps the choice itself from 5.34.0, 6.34.0 and 7.34.0)');
    case 'default':
    case 'stored':
      return { status: 'ok' };
    case 'unset':
      return { status: 'ok', unset: true };
    case 'kept_by_device':
      return { status: 'ok', allowSet: true };
  }
}

export function tooManyRequests(res: Response, retryAfterSeconds: number, appId: string, message = 'Too many requests'): void {
  const resetAt = Date.now() + retryAfterSeconds * 1000;
  res
    .status(429)
    .set('retry-after', String(retryAfterSeconds))
    .set('x-ratelimit-reset', String(Math.ceil(resetAt / 1000)))
    .json({ error: 'too_many_requests', message, moreInfo: { app_id: appId, rateLimitResetAt: resetAt, retryAfterSeconds } });
}

/**
 * Channels have no numeric id in Rampart, but the plugin rejects a list whose ids are not numbers:
 * derive a stable positive 31-bit one from app and name (Java reads it as an int).
 */
export function channelNumericId(appId: string, name: string): number {
  return createHash('sha256').update(`${appId}\u0000${name}`).digest().readUInt32BE(0) & 0x7fffffff;
}

export function channelListEntry(appId: string, channel: Channel) {
  return { id: channelNumericId(appId, channel.name), name: channel.name, public: channel.public, allow_self_set: channel.allowSelfAssign };
}
