import { BPS_SCALE, cohortOf, type Cohort } from './bucketing';
import { BUILTIN_VERSION, type BundleRef, type Platform } from './bundle';
import { decideExperiment, experimentVersions, runningExperiment, type ExperimentArmDecision, type ServingExperiment } from './experiment-serving';
import { isCompatible, needsNativeUpdate } from './native-compat';
import { isSegmentWithdrawn, servedVersions, targetFor, withdrawnVersionsOf, type SegmentTargets } from './personalization';
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
  /** Segments of a personalized release that get a bundle of their own instead of `target`. */
  segmentTargets?: SegmentTargets;
  /** Segments whose own bundle the release withdrew after their gate failed; the others go on. */
  withdrawnSegments?: readonly string[];
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

/** The versions devices must leave because of this release: withdrawn with it (an experiment's arms too), or its withdrawn segments' own. */
export function versionsWithdrawnBy(release: ServingRelease): string[] {
  const experimentArms = release.experiment && isWithdrawn(release.status) ? experimentVersions(release.experiment) : [];
  return [...new Set([...withdrawnVersionsOf(release), ...experimentArms])];
}

/** The versions the channel's current release still stands behind: never withdrawn while it is current. */
export function versionsKeptBy(current: ServingRelease): string[] {
  const kept = current.fallback ? [current.fallback.version] : [];
  if (!isWithdrawn(current.status)) kept.push(...servedVersions(current));
  if (current.experiment && !isTerminal(current.status)) kept.push(...experimentVersions(current.experiment));
  return kept;
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
    const withdrawn = new Set(list.flatMap(versionsWithdrawnBy));
    for (const version of versionsKeptBy(current)) withdrawn.delete(version);
    result.set(channel, { current, withdrawnVersions: withdrawn });
  }
  return result;
}

/** The share of the segment's devices (basis points) that should run the release's target. */
export function exposureOf(release: ServingRelease, segment: string): number {
  if (isSegmentWithdrawn(release, segment)) return 0;
  if (release.status === 'completed') return BPS_SCALE;
  return isWithdrawn(release.status) ? 0 : (release.exposure[segment] ?? 0);
}

/** For a device the release is meant for: whether it needs a store update first, its binary being too old for its target. */
function needsStoreUpdate(release: ServingRelease, target: BundleRef, device: DeviceContext): boolean {
  return !isWithdrawn(release.status) && needsNativeUpdate(target, device.platform, device.nativeVersion);
}

const versionOf = (bundle: BundleRef | null) => bundle?.version ?? BUILTIN_VERSION;

const NO_RELEASE: Decision = { action: 'none', releaseId: null, cohort: 'none', nativeUpdate: null };

/** What a decision tells the device, with which of the release's bundles. */
const Answer = { None: 0, UpdateToTarget: 1, UpdateToFallback: 2, RollbackToTarget: 3, RollbackToFallback: 4, RollbackToBuiltin: 5 } as const;
type Answer = (typeof Answer)[keyof typeof Answer];
const ANSWERS = 6;
const COHORTS: readonly Cohort[] = ['canary', 'control', 'none'];

/**
 * A channel's release has only a few distinct decisions (target × answer × cohort × store update,
 * the target being the main bundle or a segment's own): each is built once per release revision (a
 * new revision is a new ChannelServing) and then shared by every device that gets it, so a check
 * allocates no decision, and answers can be serialised once per decision.
 */
const decisionsOf = new WeakMap<ChannelServing, Map<BundleRef, Array<Decision | undefined>>>();

function decisionFor(serving: ChannelServing, target: BundleRef, answer: Answer, cohort: Cohort, storeUpdate: boolean): Decision {
  let tables = decisionsOf.get(serving);
  if (tables === undefined) decisionsOf.set(serving, (tables = new Map<BundleRef, Array<Decision | undefined>>()));
  let table = tables.get(target);
  if (table === undefined) tables.set(target, (table = new Array<Decision | undefined>(ANSWERS * COHORTS.length * 2).fill(undefined)));
  const index = (answer * COHORTS.length + COHORTS.indexOf(cohort)) * 2 + (storeUpdate ? 1 : 0);
  return (table[index] ??= buildDecision(serving.current, target, answer, cohort, storeUpdate));
}

function buildDecision(release: ServingRelease, target: BundleRef, answer: Answer, cohort: Cohort, storeUpdate: boolean): Decision {
  const { releaseId, fallback } = release;
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
  // A finished experiment serves like any release: its promoted arm is its target, or it was withdrawn.
  const experiment = runningExperiment(serving.current);
  return experiment === null ? decideRelease(serving, device) : decideExperiment(serving, experiment, device);
}

/** decide for a release's own bundles: its target (or its segment's), its baseline. */
function decideRelease(serving: ChannelServing, device: DeviceContext): Decision {
  const release = serving.current;
  const segmentWithdrawn = isSegmentWithdrawn(release, device.segment);
  const withdrawn = withdrawnFor(release.status, segmentWithdrawn);
  const cohort = cohortOf(release.bucketSalt, device.deviceId, exposureOf(release, device.segment));
  const fits = (bundle: BundleRef | null): bundle is BundleRef => bundle !== null && isCompatible(bundle, device.platform, device.nativeVersion);
  const inAudience = !withdrawn && (cohort === 'canary' || release.status === 'completed');
  // A personalized release's segment has a bundle of its own; each is checked for the native app on its own.
  const target = targetFor(release, device.segment);
  const storeUpdate = inAudience && needsStoreUpdate(release, target, device);
  const answer = (a: Answer) => decisionFor(serving, target, a, cohort, storeUpdate);

  // A device that already runs its segment's bundle of a release in flight keeps it, even if its
  // segment's exposure changed: exposure only grows for devices, like a halted store rollout.
  const runsTarget = device.bundleVersion === target.version;
  // Only devices that run the target or should get it need the compatibility check.
  const targetFits = !withdrawn && (inAudience || runsTarget) && fits(target);
  if (targetFits && runsTarget) return answer(Answer.None);
  const fallback = fits(release.fallback) ? release.fallback : null;
  const wantsTarget = inAudience && targetFits;
  const wanted = wantsTarget ? target : fallback;

  if (device.bundleVersion === versionOf(wanted)) return answer(Answer.None);
  return answer(movingAnswer(runsWithdrawnBundle(serving, device, segmentWithdrawn && runsTarget), wantsTarget, fallback !== null));
}

/** A segment whose own bundle was withdrawn is sent back like a withdrawn release's devices. */
function withdrawnFor(status: ReleaseStatus, segmentWithdrawn: boolean): boolean {
  return segmentWithdrawn || isWithdrawn(status);
}

/** Whether the device runs a bundle it must leave: one the channel withdrew, or its segment's own once withdrawn. */
function runsWithdrawnBundle(serving: ChannelServing, device: DeviceContext, runsWithdrawnMapping: boolean): boolean {
  return runsWithdrawnMapping || serving.withdrawnVersions.has(device.bundleVersion);
}

/** For a device that does not run the bundle it should: leave a withdrawn one, or move on to the one it should run. */
function movingAnswer(runsWithdrawn: boolean, wantsTarget: boolean, hasFallback: boolean): Answer {
  if (runsWithdrawn) return wantsTarget ? Answer.RollbackToTarget : hasFallback ? Answer.RollbackToFallback : Answer.RollbackToBuiltin;
  if (wantsTarget) return Answer.UpdateToTarget;
  return hasFallback ? Answer.UpdateToFallback : Answer.None;
}
