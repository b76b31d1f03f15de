import semver from 'semver';
import type { BundleRef, Platform } from './bundle';

// A fleet reports few distinct native versions and bundles few ranges, but every update check asks:
// remembering answers keeps semver parsing off the hot path. Bounded by clearing when full.
const MEMO_LIMIT = 10_000;
const normalized = new Map<string, string | null>();
const satisfied = new Map<string, boolean>();

function remember<V>(memo: Map<string, V>, key: string, compute: () => V): V {
  const known = memo.get(key);
  if (known !== undefined || memo.has(key)) return known as V;
  if (memo.size >= MEMO_LIMIT) memo.clear();
  const value = compute();
  memo.set(key, value);
  return value;
}

/** Native app versions are often `1.2` or `1.2.3 (45)`; reduce them to plain semver or null. */
export function normalizeNativeVersion(version: string): string | null {
  return remember(normalized, version, () => semver.valid(version) ?? semver.coerce(version)?.version ?? null);
}

function satisfiesRange(version: string, range: string): boolean {
  return remember(satisfied, `${range}\u0000${version}`, () => semver.satisfies(version, range, { includePrerelease: true }));
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
  return version !== null && bundle.nativeRange !== '*' && semver.ltr(version, bundle.nativeRange, { includePrerelease: true });
}
