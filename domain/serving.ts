import { cohortOf, type Cohort } from './bucketing';
import { BUILTIN_VERSION, type BundleRef, type Platform } from './bundle';
import { isCompatible } from './native-compat';
import type { Exposure, ReleaseStatus } from './release';

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
  platform: Platform;
  nativeVersion: string;
  /** The bundle the device runs, or `builtin`. */
  bundleVersion: string;
  channel: string;
  segment: string;
}

export type Decision =
  | { action: 'none'; releaseId: string | null; cohort: Cohort }
  | { action: 'update'; bundle: BundleRef; releaseId: string; cohort: Cohort }
  /** The device runs a withdrawn bundle; `bundle` null sends it back to the one in its binary. */
  | { action: 'rollback'; bundle: BundleRef | null; releaseId: string; cohort: Cohort };

const WITHDRAWN: readonly ReleaseStatus[] = ['rolled_back', 'aborted'];

export function isWithdrawn(status: ReleaseStatus): boolean {
  return WITHDRAWN.includes(status);
}

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

/**
 * The assignment of DESIGN §7 for a device whose channel and segment are resolved: which bundle it
 * should run, and what to tell it given the one it runs. A pure function of snapshot and device.
 */
export function decide(serving: ChannelServing | undefined, device: DeviceContext): Decision {
  if (!serving) return { action: 'none', releaseId: null, cohort: 'none' };
  const release = serving.current;
  const exposure = release.status === 'completed' ? 10_000 : isWithdrawn(release.status) ? 0 : (release.exposure[device.segment] ?? 0);
  const cohort = cohortOf(release.bucketSalt, device.deviceId, exposure);
  const compatible = (bundle: BundleRef | null): bundle is BundleRef =>
    bundle !== null && isCompatible(bundle, device.platform, device.nativeVersion);

  const fallback = compatible(release.fallback) ? release.fallback : null;
  const wanted = (cohort === 'canary' || release.status === 'completed') && compatible(release.target) ? release.target : fallback;
  const wantedVersion = wanted?.version ?? BUILTIN_VERSION;
  const base = { releaseId: release.releaseId, cohort };

  if (device.bundleVersion === wantedVersion) return { action: 'none', ...base };
  if (serving.withdrawnVersions.has(device.bundleVersion)) return { action: 'rollback', bundle: wanted, ...base };
  if (wanted) return { action: 'update', bundle: wanted, ...base };
  return { action: 'none', ...base };
}
