import semver from 'semver';

/** Header values are ASCII; a bound keeps the encoded form within semver's 256 characters. */
export const MAX_RUNTIME_VERSION_LENGTH = 100;
export const RUNTIME_VERSION_PATTERN = /^[\x21-\x7e]+$/;

// Outside plain semver, a runtime version (a fingerprint, `exposdk:50.0.0`, `1.0`) is spelled in hex
// as a prerelease of 0.0.0: a prerelease only satisfies its own exact range, so only devices of that
// very runtime version match, and no native version a store build reports ever does.
const ENCODED_PREFIX = '0.0.0-expo.x';

/**
 * The runtime version of an Expo update plays the native range: a device of runtime version R is
 * offered only bundles registered for exactly R. Both sides go through this function, so the
 * native-compatibility check of the assignment (a semver range) matches exact runtime versions only.
 */
export function runtimeAsNativeVersion(runtimeVersion: string): string {
  if (semver.valid(runtimeVersion) === runtimeVersion) return runtimeVersion;
  let hex = '';
  for (let i = 0; i < runtimeVersion.length; i += 1) hex += runtimeVersion.charCodeAt(i).toString(16).padStart(2, '0');
  return `${ENCODED_PREFIX}${hex}`;
}

/** The native range of a bundle registered for one runtime version: that version and no other. */
export const runtimeAsNativeRange = runtimeAsNativeVersion;

export function isValidRuntimeVersion(runtimeVersion: string): boolean {
  return runtimeVersion.length <= MAX_RUNTIME_VERSION_LENGTH && RUNTIME_VERSION_PATTERN.test(runtimeVersion);
}
