export const ROLES = ['admin', 'release', 'oncall', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export type Permission =
  | 'read'
  | 'read_audit'
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
  admin: ['read', 'read_audit', 'manage_apps', 'manage_keys', 'manage_policy', 'force_changes', 'configure_app', 'write_bundles', 'start_releases', 'command_releases'],
  release: ['read', 'configure_app', 'write_bundles', 'start_releases'],
  oncall: ['read', 'command_releases'],
  viewer: ['read'],
};

// These act across apps (a new app, a key for any app): a key limited to some apps cannot hold them.
const UNSCOPED_ONLY: readonly Permission[] = ['manage_apps', 'manage_keys'];

/** Who is calling the admin API: an API key, optionally limited to some apps. */
export interface Principal {
  keyId: string;
  name: string;
  role: Role;
  /** null: every app. */
  appIds: string[] | null;
}

export function hasPermission(principal: Principal, permission: Permission): boolean {
  return permissionRefusal(principal, permission) === null;
}

/** Why the principal may not do this, or null when it may. */
export function permissionRefusal(principal: Principal, permission: Permission): string | null {
  const what = permission.replace(/_/g, ' ');
  if (!GRANTS[principal.role].includes(permission)) return `an API key with role "${principal.role}" may not ${what}`;
  if (principal.appIds !== null && UNSCOPED_ONLY.includes(permission)) return `an API key limited to some apps may not ${what}; use an admin key for every app`;
  return null;
}

export function canAccessApp(principal: Principal, appId: string): boolean {
  return principal.appIds === null || principal.appIds.includes(appId);
}

/**
 * The partial order of roles: `a` covers `b` when every permission of `b` is one of `a`'s. admin
 * covers every role, release and oncall cover viewer and themselves, and neither covers the other.
 */
export function roleCovers(a: Role, b: Role): boolean {
  return GRANTS[b].every((permission) => GRANTS[a].includes(permission));
}

/** Whether app scope `outer` includes all of `inner` (null: every app). */
export function scopeCovers(outer: string[] | null, inner: string[] | null): boolean {
  if (outer === null) return true;
  return inner !== null && inner.every((appId) => outer.includes(appId));
}

/** Why the principal may not create a key with this role and scope, or null when it may. */
export function grantRefusal(principal: Principal, grant: { role: Role; appIds: string[] | null }): string | null {
  if (!roleCovers(principal.role, grant.role)) return `a key with role "${principal.role}" may not create a key with role "${grant.role}", which can do more`;
  if (!scopeCovers(principal.appIds, grant.appIds)) {
    return grant.appIds === null ? 'a key limited to some apps may not create a key for every app' : 'a key may only be limited to apps its creator can reach';
  }
  return null;
}

/** The audit trail's name for a caller: the key's id, which nobody can choose (its name is free text). */
export function actorOf(principal: Principal): string {
  return `key:${principal.keyId}`;
}

/** Everything the principal may do, in a stable order (what a dashboard shows or hides). */
export function permissionsOf(principal: Principal): Permission[] {
  return GRANTS[principal.role].filter((permission) => hasPermission(principal, permission));
}
