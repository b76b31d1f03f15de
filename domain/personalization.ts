import semver from 'semver';
import type { BundleRef } from './bundle';
import { isWithdrawn, type ReleaseStatus } from './release';

/**
 * Personalized releases: a release may map segments to bundles of their own (power users get one
 * bundle, new users another); every other segment gets the release's main bundle. A mapping rides
 * the plan's stages for its segment and its segment's gates, like the main bundle does for the others.
 */

/** Segment key → the bundle its devices get instead of the release's main bundle. */
export type SegmentTargets = Readonly<Record<string, BundleRef>>;

export const PERSONALIZATION_LIMITS = { maxMappings: 20 } as const;

/** What the snapshot holds of a release, as far as choosing a segment's bundle needs it. */
export interface PersonalizedRelease {
  status: ReleaseStatus;
  target: BundleRef;
  segmentTargets?: SegmentTargets;
  /** Segments whose own bundle was withdrawn (their gate failed) while the release goes on. */
  withdrawnSegments?: readonly string[];
}

/** The bundle a segment's devices are meant to run: the segment's own, else the release's main one. */
export function targetFor(release: PersonalizedRelease, segment: string): BundleRef {
  return release.segmentTargets?.[segment] ?? release.target;
}

/** Every bundle the release ships (main first): all of them are withdrawn with it. */
export function releaseVersions(release: PersonalizedRelease): string[] {
  return versionsOf(release, () => true);
}

/** The bundles the release still serves: main first, then those of segments not withdrawn. */
export function servedVersions(release: PersonalizedRelease): string[] {
  return versionsOf(release, (segment) => !isSegmentWithdrawn(release, segment));
}

function versionsOf(release: PersonalizedRelease, keep: (segment: string) => boolean): string[] {
  const versions = [release.target.version];
  for (const [segment, bundle] of Object.entries(release.segmentTargets ?? {})) if (keep(segment) && !versions.includes(bundle.version)) versions.push(bundle.version);
  return versions;
}

/** The versions devices must leave because of this release: all of a withdrawn one, else its withdrawn segments' own. */
export function withdrawnVersionsOf(release: PersonalizedRelease): string[] {
  if (isWithdrawn(release.status)) return releaseVersions(release);
  const served = servedVersions(release);
  return releaseVersions(release).filter((v) => !served.includes(v));
}

export interface MappingProblem {
  path: string;
  message: string;
}

export interface MappingCheck {
  /** Segment key → version, as the caller asked. */
  mapping: Readonly<Record<string, string>>;
  /** The app's segment keys. */
  appSegments: readonly string[];
  /** Segments the plan exposes: a mapping outside them would never be served. */
  planSegments: readonly string[];
  main: Pick<BundleRef, 'version' | 'platforms' | 'nativeRange'>;
  /** The channel's baseline version (null: the binary's bundle). */
  baselineVersion: string | null;
  /** The mapped bundles that exist, by version. */
  bundles: ReadonlyMap<string, Pick<BundleRef, 'version' | 'platforms' | 'nativeRange'>>;
}

/**
 * Why a mapping cannot be started, each problem naming what to fix. A mapped bundle must exist and be
 * runnable by the devices the release is for: it shares a platform and some native versions with the
 * main bundle (a segment whose devices could run none of it would silently stay on the baseline).
 */
export function mappingProblems(check: MappingCheck): MappingProblem[] {
  const problems: MappingProblem[] = [];
  const entries = Object.entries(check.mapping);
  if (entries.length > PERSONALIZATION_LIMITS.maxMappings) {
    problems.push({ path: 'segmentBundles', message: `at most ${PERSONALIZATION_LIMITS.maxMappings} segments can have a bundle of their own` });
  }
  for (const [segment, version] of entries) {
    const path = `segmentBundles.${segment}`;
    if (!check.appSegments.includes(segment)) {
      problems.push({ path, message: `the app has no segment ${segment}; its segments are ${check.appSegments.join(', ')}` });
      continue;
    }
    if (!check.planSegments.includes(segment)) {
      problems.push({ path, message: `the plan never exposes segment ${segment}; add it to a stage or drop the mapping (plan segments: ${check.planSegments.join(', ')})` });
      continue;
    }
    const bundle = check.bundles.get(version);
    if (!bundle) {
      problems.push({ path, message: `the app has no bundle ${version}; upload it first` });
      continue;
    }
    if (version === check.main.version) problems.push({ path, message: `${version} is the release's main bundle already; drop the mapping` });
    else if (version === check.baselineVersion) problems.push({ path, message: `${version} is the channel's baseline; leave ${segment} out of the plan to keep it there` });
    else problems.push(...compatibilityProblems(path, bundle, check.main));
  }
  return problems;
}

function compatibilityProblems(path: string, bundle: MappingCheck['main'], main: MappingCheck['main']): MappingProblem[] {
  const problems: MappingProblem[] = [];
  if (!bundle.platforms.some((p) => main.platforms.includes(p))) {
    problems.push({ path, message: `${bundle.version} runs on ${bundle.platforms.join(', ')} but the release's bundle ${main.version} on ${main.platforms.join(', ')}; map a bundle for the same platforms` });
  }
  if (!semver.intersects(bundle.nativeRange, main.nativeRange, { includePrerelease: true })) {
    problems.push({
      path,
      message: `${bundle.version} needs native ${bundle.nativeRange}, which no device running ${main.version} (native ${main.nativeRange}) has; map a bundle whose native range overlaps`,
    });
  }
  return problems;
}

/** Whether the release withdrew this segment's own bundle (its gate failed) while the others go on. */
export function isSegmentWithdrawn(release: { withdrawnSegments?: readonly string[] }, segment: string): boolean {
  return release.withdrawnSegments?.includes(segment) ?? false;
}

/**
 * The mapped segments a rollback verdict can be confined to: every finding that asks for the
 * rollback names a segment with a bundle of its own, and some exposed segment would go on. Null
 * when the whole release must roll back.
 */
export function mappingsToWithdraw(
  findings: ReadonlyArray<{ verdict: string; dryRun: boolean; segment?: string }>,
  mapped: Readonly<Record<string, string>> | undefined,
  exposedSegments: readonly string[],
): string[] | null {
  if (mapped === undefined) return null;
  const failing = findings.filter((f) => f.verdict === 'rollback' && !f.dryRun);
  if (failing.length === 0 || failing.some((f) => f.segment === undefined || mapped[f.segment] === undefined)) return null;
  const segments = [...new Set(failing.map((f) => f.segment!))].sort();
  return exposedSegments.some((s) => !segments.includes(s)) ? segments : null;
}
