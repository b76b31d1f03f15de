/**
 * The Keyword search attributes every release workflow carries, so that
 * `temporal workflow list --query "AppId='com.example.app' AND ReleaseStatus='paused'"` works.
 * Names only: the workflow builds its typed keys from them, servers and clusters register them.
 */
export const RELEASE_SEARCH_ATTRIBUTES = ['AppId', 'ReleaseVersion', 'ReleaseChannel', 'ReleaseStatus'] as const;
