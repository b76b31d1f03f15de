export const ROLES = ['admin', 'release', 'oncall', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export type Permission =
  | 'read'
  | 'manage_apps'
  | 'manage_keys'
  | 'manage_policy'
  /** Change an app's segments or channels under an active release (it moves the release's population). */
  | 'force_changes'
  | 'configure_app'
  | 'write_bundles'
  | 'start_releases'
  | 'command_releases';

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: ['read', 'manage_apps', 'manage_keys', 'manage_policy', 'force_changes', 'configure_app', 'write_bundles', 'start_releases', 'command_releases'],
  release: ['read', 'configure_app', 'write_bundles', 'start_releases'],
  oncall: ['read', 'command_releases'],
  viewer: ['read'],
};

/** Who is calling the admin API: an API key, optionally limited to some apps. */
export interface Principal {
  keyId: string;
  name: string;
  role: Role;
  /** null: every app. */
  appIds: string[] | null;
}

export function hasPermission(principal: Principal, permission: Permission): boolean {
  return GRANTS[principal.role].includes(permission);
}

export function canAccessApp(principal: Principal, appId: string): boolean {
  return principal.appIds === null || principal.appIds.includes(appId);
}

/** The audit trail's name for a caller. */
export function actorOf(principal: Principal): string {
  return `key:${principal.name}`;
}
