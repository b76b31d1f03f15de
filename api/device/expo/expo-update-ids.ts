import { createHash } from 'node:crypto';

/** An RFC 4122 version-4-shaped UUID from the first 16 bytes of a SHA-256: expo-updates parses manifest ids as UUIDs. */
function uuidFromHash(input: string): string {
  const bytes = createHash('sha256').update(input).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The manifest id of a bundle for one platform: the same on every instance and every request. */
export function expoUpdateId(appId: string, version: string, platform: string): string {
  return uuidFromHash(`rampart expo update\u0000${appId}\u0000${version}\u0000${platform}`);
}

/**
 * The id of the bundle's manifest re-issued at `createdAt` while `releaseId` is the channel's release:
 * the time is part of the manifest, so it is part of the id.
 */
export function expoReissueId(appId: string, version: string, platform: string, releaseId: string, createdAt: string): string {
  return uuidFromHash(`rampart expo reissue\u0000${appId}\u0000${version}\u0000${platform}\u0000${releaseId}\u0000${createdAt}`);
}
