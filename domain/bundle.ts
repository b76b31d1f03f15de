export const PLATFORMS = ['ios', 'android', 'web', 'electron'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** The version a device reports when it runs the bundle shipped inside its native binary. */
export const BUILTIN_VERSION = 'builtin';

/** What a device needs to fetch, verify and decide on a bundle. */
export interface BundleRef {
  version: string;
  url: string;
  sha256: string;
  size: number;
  platforms: Platform[];
  /** Semver range of native app versions the bundle runs on. */
  nativeRange: string;
  sessionKey: string | null;
  /** Capgo's RSA-encrypted checksum of an encrypted bundle, sent to Capgo devices instead of sha256. */
  encryptedChecksum: string | null;
  /** The publisher's own signature of the bundle, opaque to Rampart, passed to native devices. */
  signature: string | null;
}

export interface Bundle extends BundleRef {
  appId: string;
  notes: string | null;
  createdAt: string;
}
