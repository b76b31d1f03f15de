import { BPS_SCALE, cohortOf, type Cohort } from './bucketing';
import { BUILTIN_VERSION, type BundleRef, type Platform } from './bundle';
import { isCompatible, needsNativeUpdate } from './native-compat';
import { isWithdrawn, type Exposure, type ReleaseStatus } from './release';

/** A published release as the device-facing snapshot holds it: state plus both bundles. */
export interface ServingRelease {
  releaseId: string;
  appId: string;
  channel: string;
  bucketSalt: string;
  /** Telemetry counting-window size of the release. */
  windowMs: number;
  createdAt: number;
  revision: number;
  status: ReleaseStatus;
  stageIndex: number;
  exposure: Exposure;
  /** When the workflow's state reached PostgreSQL (epoch ms). */
  publishedAt: number;
  target: BundleRef;
  /** The baseline; null means the bundle inside the native binary. */
  fallback: BundleRef | null;
}

/** What one channel answers from: its newest release and the versions devices must leave. */
export interface ChannelServing {
  current: ServingRelease;
  withdrawnVersions: ReadonlySet<string>;
}

export interface DeviceContext {
  deviceId: string;
  /** null: the protocol does not say (CodePush); bundles are then matched on the native range only. */
  platform: Platform | null;
  nativeVersion: string;
  /** The bundle the device runs, or `builtin`. */
  bundleVersion: string;
  segment: string;
}

interface DecisionBase {
  releaseId: string | null;
  cohort: Cohort;
  /**
   * Set when the device should get the release's bundle but its native app is too old for it, for
   * protocols that can tell a device to update from the store first.
   */
  nativeUpdate: { version: string; nativeRange: string } | null;
}

export type Decision =
  | ({ action: 'none' } & DecisionBase)
  | ({ action: 'update'; bundle: BundleRef; releaseId: string } & DecisionBase)
  /** The device runs a withdrawn bundle; `bundle` null sends it back to the one in its binary. */
  | ({ action: 'rollback'; bundle: BundleRef | null; releaseId: string } & DecisionBase);

/** Groups an app's published releases per channel; the newest release of a channel is current. */
export function buildChannelServing(releases: readonly ServingRelease[]): Map<string, ChannelServing> {
  const byChannel = new Map<string, ServingRelease[]>();
  for (const release of releases) {
    const list = byChannel.get(release.channel) ?? [];
    list.push(release);
    byChannel.set(release.channel, list);
  }
  const result = new Map<string, ChannelServing>();
  for (const [channel, list] of byChannel) {
    list.sort((a, b) => a.createdAt - b.createdAt || a.releaseId.localeCompare(b.releaseId));
    const current = list[list.length - 1]!;
    const withdrawn = new Set(list.filter((r) => isWithdrawn(r.status)).map((r) => r.target.version));
    if (current.fallback) withdrawn.delete(current.fallback.version);
    if (!isWithdrawn(current.status)) withdrawn.delete(current.target.version);
    result.set(channel, { current, withdrawnVersions: withdrawn });
  }
  return result;
}

/** The share of the segment's devices (basis points) that should run the release's target. */
export function exposureOf(release: ServingRelease, segment: string): number {
  if (release.status === 'completed') return BPS_SCALE;
  return isWithdrawn(release.status) ? 0 : (release.exposure[segment] ?? 0);
}

/** For a device the release is meant for: the store update it needs first, if its binary is too old for the target. */
function nativeUpdateFor(release: ServingRelease, device: DeviceContext): DecisionBase['nativeUpdate'] {
  const { target } = release;
  return !isWithdrawn(release.status) && needsNativeUpdate(target, device.platform, device.nativeVersion)
    ? { version: target.version, nativeRange: target.nativeRange }
    : null;
}

const versionOf = (bundle: BundleRef | null) => bundle?.version ?? BUILTIN_VERSION;

/**
 * The assignment of DESIGN §7 for a device whose channel and segment are resolved: which bundle it
 * should run, and what to tell it given the one it runs. A pure function of snapshot and device.
 */
export function decide(serving: ChannelServing | undefined, device: DeviceContext): Decision {
  if (!serving) return { action: 'none', releaseId: null, cohort: 'none', nativeUpdate: null };
  const release = serving.current;
  const withdrawn = isWithdrawn(release.status);
  const cohort = cohortOf(release.bucketSalt, device.deviceId, exposureOf(release, device.segment));
  const fits = (bundle: BundleRef | null): bundle is BundleRef => bundle !== null && isCompatible(bundle, device.platform, device.nativeVersion);
  const inAudience = cohort === 'canary' || release.status === 'completed';
  const base = {
    releaseId: release.releaseId,
    cohort,
    nativeUpdate: inAudience ? nativeUpdateFor(release, device) : null,
  };

  // A device that already runs the bundle of a release in flight keeps it, even if its segment (and
  // with it its exposure) changed: exposure only grows for devices, like a halted store rollout.
  const runsTarget = device.bundleVersion === release.target.version;
  // Only devices that run the target or should get it need the compatibility check.
  const targetFits = !withdrawn && (inAudience || runsTarget) && fits(release.target);
  if (targetFits && runsTarget) return { action: 'none', ...base };
  const fallback = fits(release.fallback) ? release.fallback : null;
  const wanted = inAudience && targetFits ? release.target : fallback;

  if (device.bundleVersion === versionOf(wanted)) return { action: 'none', ...base };
  if (serving.withdrawnVersions.has(device.bundleVersion)) return { action: 'rollback', bundle: wanted, ...base };
  if (wanted) return { action: 'update', bundle: wanted, ...base };
  return { action: 'none', ...base };
}
