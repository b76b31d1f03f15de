/** One file of an Expo update, as the Expo Updates v1 manifest names it. */
export interface ExpoAsset {
  /** Base64url SHA-256 of the file; the client verifies it. */
  hash: string;
  /** What the update's code refers to the asset by (the bundler's md5 of the file). */
  key: string;
  contentType: string;
  /** With its leading dot; absent for the launch asset, whose extension the client decides. */
  fileExtension?: string;
  url: string;
}

/** The entry point of the update's code: its extension is the client's to choose, so it has none. */
export type ExpoLaunchAsset = Omit<ExpoAsset, 'fileExtension'>;

/** What Rampart keeps of one bundle for one platform: enough to write its manifest. */
export interface ExpoUpdate {
  appId: string;
  version: string;
  platform: 'ios' | 'android';
  /** Stable for the bundle and platform; the manifest's id. */
  updateId: string;
  runtimeVersion: string;
  launchAsset: ExpoLaunchAsset;
  assets: ExpoAsset[];
  metadata: Record<string, string>;
  extra: Record<string, unknown>;
  /** Headers the client adds when it fetches an asset, by asset key. */
  assetRequestHeaders: Record<string, Record<string, string>>;
  createdAt: string;
}

export const EXPO_PLATFORMS = ['ios', 'android'] as const;

export interface ExpoManifest {
  id: string;
  createdAt: string;
  runtimeVersion: string;
  launchAsset: ExpoLaunchAsset;
  assets: ExpoAsset[];
  metadata: Record<string, string>;
  extra: Record<string, unknown>;
}

export type ExpoDirective = { type: 'noUpdateAvailable' } | { type: 'rollBackToEmbedded'; parameters: { commitTime: string } };

/**
 * The manifest body of the spec. `issue` names the manifest: the bundle's own id and registration
 * time, or a re-issue of it (a rollback to it must look newer than what the device runs, since the
 * client only ever moves to a more recently created update).
 */
export function expoManifest(update: ExpoUpdate, issue: { id: string; createdAt: string } = { id: update.updateId, createdAt: update.createdAt }): ExpoManifest {
  return {
    id: issue.id,
    createdAt: issue.createdAt,
    runtimeVersion: update.runtimeVersion,
    launchAsset: update.launchAsset,
    assets: update.assets,
    metadata: update.metadata,
    extra: update.extra,
  };
}
