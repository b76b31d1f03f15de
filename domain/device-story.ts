import { bucketOf, controlSliceBps, isUsableDeviceId, type Cohort } from './bucketing';
import type { BundleRef, Platform } from './bundle';
import { explainChannel, type Channel, type ChannelExplanation, type ChannelOverride } from './channel';
import { isCompatible, needsNativeUpdate } from './native-compat';
import { targetFor } from './personalization';
import type { ReleaseStatus } from './release';
import { explainSegment, type AttributeValue, type RankedSegment, type SegmentExplanation } from './segment-rules';
import { decide, exposureOf, type ChannelServing, type Decision } from './serving';

/** Adoption looks back this many hours by default, at most `max` (a month: devices' last_seen is kept that long at least). */
export const ADOPTION_WINDOW_HOURS = { default: 24, min: 1, max: 720 } as const;

/** What an app serves from, as far as explaining one device's answer needs it (an `AppServing` fits). */
export interface AssignmentSource {
  channels: ReadonlyMap<string, Channel>;
  overrides: ReadonlyMap<string, ChannelOverride>;
  segments: readonly RankedSegment[];
  serving: ReadonlyMap<string, ChannelServing>;
}

/** The device as its stored profile knows it; it stands in for a device context nobody sent. */
export interface ProfiledDevice {
  deviceId: string;
  platform: Platform | null;
  nativeVersion: string;
  bundleVersion: string;
  /** The channel it was last served from: taken as the one it asks for. */
  channel: string | null;
  attributes: Record<string, AttributeValue>;
  sessionsLast7d: number;
  daysSinceFirstSeen: number;
}

export interface Compatibility {
  version: string;
  compatible: boolean;
  needsNativeUpdate: boolean;
}

export interface ReleaseExplanation {
  releaseId: string;
  status: ReleaseStatus;
  stageIndex: number;
  /** Null for a device id that cannot be bucketed (it is never in a canary). */
  bucket: number | null;
  exposureBps: number;
  /** Buckets [fromBps, toBps) keep the baseline as the control cohort. */
  controlSlice: { fromBps: number; toBps: number };
  cohort: Cohort;
  /** The bundle the device's segment gets: a personalized release's own for the segment, else its main one. */
  target: Compatibility;
  /** Set when the release maps the device's segment to a bundle of its own (personalization). */
  segmentBundle: { segment: string; version: string } | null;
  /** Null: the baseline is the bundle inside the native binary. */
  baseline: Compatibility | null;
  /** Versions the channel withdrew: a device on one of them is told to go back. */
  withdrawnVersions: string[];
}

export interface AssignmentExplanation {
  channel: ChannelExplanation;
  segment: SegmentExplanation;
  /** Null: no release on the device's channel. */
  release: ReleaseExplanation | null;
  decision: Decision;
}

function compatibility(bundle: BundleRef, device: ProfiledDevice): Compatibility {
  return {
    version: bundle.version,
    compatible: isCompatible(bundle, device.platform, device.nativeVersion),
    needsNativeUpdate: needsNativeUpdate(bundle, device.platform, device.nativeVersion),
  };
}

function explainRelease(serving: ChannelServing, segment: string, device: ProfiledDevice, cohort: Cohort): ReleaseExplanation {
  const release = serving.current;
  const exposureBps = exposureOf(release, segment);
  return {
    releaseId: release.releaseId,
    status: release.status,
    stageIndex: release.stageIndex,
    bucket: isUsableDeviceId(device.deviceId) ? bucketOf(release.bucketSalt, device.deviceId) : null,
    exposureBps,
    controlSlice: { fromBps: exposureBps, toBps: exposureBps + controlSliceBps(exposureBps) },
    cohort,
    target: compatibility(targetFor(release, segment), device),
    segmentBundle: release.segmentTargets?.[segment] ? { segment, version: release.segmentTargets[segment].version } : null,
    baseline: release.fallback && compatibility(release.fallback, device),
    withdrawnVersions: [...serving.withdrawnVersions].sort(),
  };
}

/**
 * Why a device gets its answer (DESIGN §8a): each step of the assignment of §7, computed by the
 * same functions an update check runs, so the story cannot tell something the check does not do.
 */
export function explainAssignment(app: AssignmentSource, device: ProfiledDevice): AssignmentExplanation {
  const channel = explainChannel(app.channels, {
    override: app.overrides.get(device.deviceId),
    requested: device.channel ?? undefined,
    platform: device.platform,
  });
  const segment = explainSegment(app.segments, {
    deviceId: device.deviceId,
    platform: device.platform,
    nativeVersion: device.nativeVersion,
    bundleVersion: device.bundleVersion,
    channel: channel.channel ?? '',
    attributes: device.attributes,
    sessionsLast7d: device.sessionsLast7d,
    daysSinceFirstSeen: device.daysSinceFirstSeen,
  });
  const serving = channel.channel === null ? undefined : app.serving.get(channel.channel);
  const decision = decide(serving, { ...device, segment: segment.segment });
  return {
    channel,
    segment,
    release: serving ? explainRelease(serving, segment.segment, device, decision.cohort) : null,
    decision,
  };
}
