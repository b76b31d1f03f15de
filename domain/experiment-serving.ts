import { bucketOf, isUsableDeviceId, type Cohort } from './bucketing';
import { BUILTIN_VERSION, type BundleRef } from './bundle';
import { armCohort, armIndexOf, type InstallMode } from './experiment';
import { isCompatible, needsNativeUpdate } from './native-compat';
import type { Attribution } from './telemetry';
import type { ChannelServing, Decision, DeviceContext, ServingRelease } from './serving';

/** An arm as the device-facing snapshot holds it. */
export interface ServingArm {
  key: string;
  /** The arm's bundle; null: the release's baseline (its fallback). */
  bundle: BundleRef | null;
  weight: number;
  installMode: InstallMode;
  control: boolean;
  /** A guardrail or a command stopped the arm: its devices are sent back to the baseline. */
  stopped: boolean;
}

export interface ServingExperiment {
  /** Secret of its own, independent of the release's bucket salt: it picks the arm, the salt picks who is in. */
  armSalt: string;
  arms: ServingArm[];
}

/** What an in-experiment decision adds: which arm answered, and when the device should apply its bundle. */
export interface ExperimentArmDecision {
  key: string;
  installMode: InstallMode;
}

/** The arm of a device the experiment exposes, by the arm hash alone; null for an id that cannot identify a device. */
export function armAmong(experiment: ServingExperiment, deviceId: string): ServingArm | null {
  const index = armIndexOf(experiment.armSalt, deviceId, experiment.arms.map((a) => a.weight));
  return index === null ? null : experiment.arms[index]!;
}

/** The device's arm while the experiment runs; null when it is outside the exposure (or has no usable id). */
export function armOf(release: ServingRelease, experiment: ServingExperiment, deviceId: string, segment: string): ServingArm | null {
  if (!isUsableDeviceId(deviceId)) return null;
  const exposure = release.exposure[segment] ?? 0;
  if (exposure <= 0 || bucketOf(release.bucketSalt, deviceId) >= exposure) return null;
  return armAmong(experiment, deviceId);
}

/** The version a device of this arm runs when it follows its arm. */
function armVersion(release: ServingRelease, arm: ServingArm): string {
  return (arm.bundle ?? release.fallback)?.version ?? BUILTIN_VERSION;
}

/** Versions of bundles only stopped arms serve: a device on one is sent back. */
function stoppedVersions(release: ServingRelease, experiment: ServingExperiment): Set<string> {
  const active = new Set(experiment.arms.filter((a) => !a.stopped).map((a) => armVersion(release, a)));
  return new Set(experiment.arms.filter((a) => a.stopped && a.bundle !== null && !active.has(a.bundle.version)).map((a) => a.bundle!.version));
}

/** Decisions of an experiment, built once per snapshot revision and shared (like decide's). */
const decisionsOf = new WeakMap<ChannelServing, Map<string, Decision>>();

function shared(serving: ChannelServing, key: string, build: () => Decision): Decision {
  let table = decisionsOf.get(serving);
  if (table === undefined) decisionsOf.set(serving, (table = new Map<string, Decision>()));
  let decision = table.get(key);
  if (decision === undefined) table.set(key, (decision = build()));
  return decision;
}

/** The experiment of a release while it runs (or is paused); null for any other release or state. */
export function runningExperiment(release: Pick<ServingRelease, 'experiment' | 'status'>): ServingExperiment | null {
  return release.experiment !== undefined && (release.status === 'running' || release.status === 'paused') ? release.experiment : null;
}

/** What a device of this arm (null: outside the exposure) should run, and whether its binary must be updated first. */
function wantedBundle(release: ServingRelease, arm: ServingArm | null, device: DeviceContext) {
  const fits = (bundle: BundleRef | null): bundle is BundleRef => bundle !== null && isCompatible(bundle, device.platform, device.nativeVersion);
  const fallback = fits(release.fallback) ? release.fallback : null;
  const armBundle = arm === null || arm.stopped ? null : (arm.bundle ?? release.fallback);
  const storeUpdate = armBundle !== null && needsNativeUpdate(armBundle, device.platform, device.nativeVersion);
  return { wanted: fits(armBundle) ? armBundle : fallback, nativeUpdate: storeUpdate ? { version: armBundle.version, nativeRange: armBundle.nativeRange } : null };
}

/** A device that must leave the bundle it runs: withdrawn, its stopped arm's, or (outside) one only stopped arms serve. */
function mustLeave(serving: ChannelServing, experiment: ServingExperiment, arm: ServingArm | null, runs: string): boolean {
  if (serving.withdrawnVersions.has(runs)) return true;
  if (arm !== null) return arm.stopped && runs === armVersion(serving.current, arm);
  return stoppedVersions(serving.current, experiment).has(runs);
}

/** What every decision for this arm shares, and the key its decisions are cached under. */
function decisionBase(release: ServingRelease, arm: ServingArm | null, nativeUpdate: Decision['nativeUpdate']) {
  const cohort: Cohort = arm === null ? 'none' : arm.control ? 'control' : 'canary';
  const experimentArm = arm === null ? {} : { experimentArm: { key: arm.key, installMode: arm.installMode } };
  return { key: `${arm?.key ?? ''}|${nativeUpdate === null ? 0 : 1}`, base: { releaseId: release.releaseId, cohort, nativeUpdate, ...experimentArm } };
}

/**
 * The assignment of a running or paused experiment (DESIGN §7 with arms): outside the exposure a
 * device keeps the baseline; inside, it runs its arm's bundle, with its arm's install mode; a stopped
 * arm's devices, and any device on a bundle only stopped arms serve, are sent back to the baseline.
 */
export function decideExperiment(serving: ChannelServing, experiment: ServingExperiment, device: DeviceContext): Decision {
  const release = serving.current;
  const arm = armOf(release, experiment, device.deviceId, device.segment);
  const { wanted, nativeUpdate } = wantedBundle(release, arm, device);
  const { key, base } = decisionBase(release, arm, nativeUpdate);
  const runs = device.bundleVersion;
  const none = () => shared(serving, `${key}|none`, () => ({ action: 'none', ...base }));

  if (runs === (wanted?.version ?? BUILTIN_VERSION)) return none();
  // Outside the exposure, a device on an active arm's bundle keeps it (exposure only grows for devices).
  if (arm === null && experiment.arms.some((a) => !a.stopped && a.bundle?.version === runs)) return none();
  if (mustLeave(serving, experiment, arm, runs)) return shared(serving, `${key}|rollback|${wanted?.version ?? ''}`, () => ({ action: 'rollback', bundle: wanted, ...base }));
  if (wanted === null) return none();
  return shared(serving, `${key}|update|${wanted.version}`, () => ({ action: 'update', bundle: wanted, ...base }));
}

/**
 * Where an event of an in-flight experiment counts: the device's arm is its gate slice and its
 * rollup cohort (`arm:<key>`, every device of the arm, intention to treat); it counts on the arm's
 * bundle when it happened on the bundle its arm serves.
 */
export function attributeExperimentEvent(release: ServingRelease, experiment: ServingExperiment, deviceId: string, segment: string, bundleVersion: string): Attribution {
  const arm = armOf(release, experiment, deviceId, segment);
  if (arm === null) return { releaseId: release.releaseId, slice: null, onCohortBundle: false, cohort: 'none', windowMs: release.windowMs, arm: null };
  const onCohortBundle = bundleVersion === armVersion(release, arm);
  const cohort = onCohortBundle ? (arm.control ? 'control' : 'canary') : 'none';
  return { releaseId: release.releaseId, slice: armCohort(arm.key), onCohortBundle, cohort, windowMs: release.windowMs, arm: arm.key };
}

/** Every version an experiment's arms serve: withdrawn together when the experiment is. */
export function experimentVersions(experiment: ServingExperiment): string[] {
  return experiment.arms.flatMap((a) => (a.bundle === null ? [] : [a.bundle.version]));
}
