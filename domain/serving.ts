import { BPS_SCALE, cohortOf, type Cohort } from './bucketing';
import { BUILTIN_VERSION, type BundleRef, type Platform } from './bundle';
import { decideExperiment, experimentVersions, runningExperiment, type ExperimentArmDecision, type ServingExperiment } from './experiment-serving';
import { isCompatible, needsNativeUpdate } from './native-compat';
import { isTerminal, isWithdrawn, type Exposure, type ReleaseStatus } from './release';

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
  /** Present when the release is an experiment: its arms split the exposed devices. */
  experiment?: ServingExperiment;
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
  nativeUpdate: { readonly version: string; readonly nativeRange: string } | null;
  /** Set for a device inside a running experiment: its arm and the arm's install mode. */
  experimentArm?: ExperimentArmDecision;
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
    const withdrawn = new Set(list.filter((r) => isWithdrawn(r.status)).flatMap((r) => [r.target.version, ...(r.experiment ? experimentVersions(r.experiment) : [])]));
    if (current.fallback) withdrawn.delete(current.fallback.version);
    if (!isWithdrawn(current.status)) withdrawn.delete(current.target.version);
    if (current.experiment && !isTerminal(current.status)) for (const version of experimentVersions(current.experiment)) withdrawn.delete(version);
    result.set(channel, { current, withdrawnVersions: withdrawn });
  }
  return result;
}

/** The share of the segment's devices (basis points) that should run the release's target. */
export function exposureOf(release: ServingRelease, segment: string): number {
  if (release.status === 'completed') return BPS_SCALE;
  return isWithdrawn(release.status) ? 0 : (release.exposure[segment] ?? 0);
}

/** For a device the release is meant for: whether it needs a store update first, its binary being too old for the target. */
function needsStoreUpdate(release: ServingRelease, device: DeviceContext): boolean {
  return !isWithdrawn(release.status) && needsNativeUpdate(release.target, device.platform, device.nativeVersion);
}

const versionOf = (bundle: BundleRef | null) => bundle?.version ?? BUILTIN_VERSION;

const NO_RELEASE: Decision = { action: 'none', releaseId: null, cohort: 'none', nativeUpdate: null };

/** What a decision tells the device, with which of the release's bundles. */
const Answer = { None: 0, UpdateToTarget: 1, UpdateToFallback: 2, RollbackToTarget: 3, RollbackToFallback: 4, RollbackToBuiltin: 5 } as const;
type Answer = (typeof Answer)[keyof typeof Answer];
const ANSWERS = 6;
const COHORTS: readonly Cohort[] = ['canary', 'control', 'none'];

/**
 * A channel's release has only a few distinct decisions (answer × cohort × store update): each is
 * built once per release revision (a new revision is a new ChannelServing) and then shared by every
 * device that gets it, so a check allocates no decision, and answers can be serialised once per decision.
 */
const decisionsOf = new WeakMap<ChannelServing, Array<Decision | undefined>>();

function decisionFor(serving: ChannelServing, answer: Answer, cohort: Cohort, storeUpdate: boolean): Decision {
  let table = decisionsOf.get(serving);
  if (table === undefined) decisionsOf.set(serving, (table = new Array<Decision | undefined>(ANSWERS * COHORTS.length * 2).fill(undefined)));
  const index = (answer * COHORTS.length + COHORTS.indexOf(cohort)) * 2 + (storeUpdate ? 1 : 0);
  return (table[index] ??= buildDecision(serving.current, answer, cohort, storeUpdate));
}

function buildDecision(release: ServingRelease, answer: Answer, cohort: Cohort, storeUpdate: boolean): Decision {
  const { releaseId, target, fallback } = release;
  const base = { releaseId, cohort, nativeUpdate: storeUpdate ? { version: target.version, nativeRange: target.nativeRange } : null };
  switch (answer) {
    case Answer.None:
      return { action: 'none', ...base };
    case Answer.UpdateToTarget:
      return { action: 'update', bundle: target, ...base };
    case Answer.UpdateToFallback:
      return { action: 'update', bundle: fallback!, ...base };
    case Answer.RollbackToTarget:
      return { action: 'rollback', bundle: target, ...base };
    case Answer.RollbackToFallback:
      return { action: 'rollback', bundle: fallback, ...base };
    case Answer.RollbackToBuiltin:
      return { action: 'rollback', bundle: null, ...base };
  }
}

/**
 * The assignment of DESIGN §7 for a device whose channel and segment are resolved: which bundle it
 * should run, and what to tell it given the one it runs. A pure function of snapshot and device; the
 * decision returned is shared (see decisionFor) and must not be changed.
 */
export function decide(serving: ChannelServing | undefined, device: DeviceContext): Decision {
  if (!serving) return NO_RELEASE;
  const release = serving.current;
  // A finished experiment serves like any release: its promoted arm is its target, or it was withdrawn.
  const experiment = runningExperiment(release);
  if (experiment !== null) return decideExperiment(serving, experiment, device);
  const withdrawn = isWithdrawn(release.status);
  const cohort = cohortOf(release.bucketSalt, device.deviceId, exposureOf(release, device.segment));
  const fits = (bundle: BundleRef | null): bundle is BundleRef => bundle !== null && isCompatible(bundle, device.platform, device.nativeVersion);
  const inAudience = cohort === 'canary' || release.status === 'completed';
  const storeUpdate = inAudience && needsStoreUpdate(release, device);
  const answer = (a: Answer) => decisionFor(serving, a, cohort, storeUpdate);

  // A device that already runs the bundle of a release in flight keeps it, even if its segment (and
  // with it its exposure) changed: exposure only grows for devices, like a halted store rollout.
  const runsTarget = device.bundleVersion === release.target.version;
  // Only devices that run the target or should get it need the compatibility check.
  const targetFits = !withdrawn && (inAudience || runsTarget) && fits(release.target);
  if (targetFits && runsTarget) return answer(Answer.None);
  const fallback = fits(release.fallback) ? release.fallback : null;
  const wantsTarget = inAudience && targetFits;
  const wanted = wantsTarget ? release.target : fallback;

  if (device.bundleVersion === versionOf(wanted)) return answer(Answer.None);
  return answer(movingAnswer(serving.withdrawnVersions.has(device.bundleVersion), wantsTarget, fallback !== null));
}

/** For a device that does not run the bundle it should: leave a withdrawn one, or move on to the one it should run. */
function movingAnswer(runsWithdrawn: boolean, wantsTarget: boolean, hasFallback: boolean): Answer {
  if (runsWithdrawn) return wantsTarget ? Answer.RollbackToTarget : hasFallback ? Answer.RollbackToFallback : Answer.RollbackToBuiltin;
  if (wantsTarget) return Answer.UpdateToTarget;
  return hasFallback ? Answer.UpdateToFallback : Answer.None;
}
