import semver from 'semver';
import { createBoundedCache } from './bounded-cache';
import type { BundleRef, Platform } from './bundle';

// A fleet reports few distinct native versions and bundles few ranges, but every update check asks:
// remembering answers keeps semver parsing off the hot path.
const MEMO_LIMIT = 10_000;
const normalized = createBoundedCache<string | null>(MEMO_LIMIT);
const satisfied = createBoundedCache<boolean>(MEMO_LIMIT);
const below = createBoundedCache<boolean>(MEMO_LIMIT);

/** Native app versions are often `1.2` or `1.2.3 (45)`; reduce them to plain semver or null. */
export function normalizeNativeVersion(version: string): string | null {
  return normalized.get(version, () => semver.valid(version) ?? semver.coerce(version)?.version ?? null);
}

function satisfiesRange(version: string, range: string): boolean {
  return satisfied.get(`${range}\u0000${version}`, () => semver.satisfies(version, range, { includePrerelease: true }));
}

function belowRange(version: string, range: string): boolean {
  return below.get(`${range}\u0000${version}`, () => semver.ltr(version, range, { includePrerelease: true }));
}

export function isValidNativeRange(range: string): boolean {
  return semver.validRange(range) !== null;
}

/**
 * A device outside a bundle's platforms or native range must never be offered that bundle.
 * `platform` null (the protocol does not say) checks the native range only.
 */
export function isCompatible(bundle: Pick<BundleRef, 'platforms' | 'nativeRange'>, platform: Platform | null, nativeVersion: string): boolean {
  if (platform !== null && !bundle.platforms.includes(platform)) return false;
  if (bundle.nativeRange === '*') return true;
  const version = normalizeNativeVersion(nativeVersion);
  return version !== null && satisfiesRange(version, bundle.nativeRange);
}

/** The device's native app is older than every version the bundle runs on: only a store update helps. */
export function needsNativeUpdate(bundle: Pick<BundleRef, 'platforms' | 'nativeRange'>, platform: Platform | null, nativeVersion: string): boolean {
  if (platform !== null && !bundle.platforms.includes(platform)) return false;
  const version = normalizeNativeVersion(nativeVersion);
  return version !== null && bundle.nativeRange !== '*' && belowRange(version, bundle.nativeRange);
}
