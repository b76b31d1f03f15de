import { describe, expect, it } from 'vitest';
import { actorOf, grantRefusal, hasPermission, permissionRefusal, roleCovers, ROLES, scopeCovers, type Principal, type Role } from '../../../domain/access';

const key = (role: Role, appIds: string[] | null = null): Principal => ({ keyId: 'k1', name: 'bootstrap-admin', role, appIds });

describe('the order of roles', () => {
  it('is the partial order of their permissions: admin over all, release and oncall over viewer, neither over the other', () => {
    const covered = (a: Role) => ROLES.filter((b) => roleCovers(a, b));
    expect(covered('admin')).toEqual(['admin', 'release', 'oncall', 'viewer']);
    expect(covered('release')).toEqual(['release', 'viewer']);
    expect(covered('oncall')).toEqual(['oncall', 'viewer']);
    expect(covered('viewer')).toEqual(['viewer']);
  });

  it('is reflexive, antisymmetric and transitive', () => {
    for (const a of ROLES) {
      expect(roleCovers(a, a)).toBe(true);
      for (const b of ROLES) {
        if (a !== b && roleCovers(a, b)) expect(roleCovers(b, a)).toBe(false);
        for (const c of ROLES) if (roleCovers(a, b) && roleCovers(b, c)) expect(roleCovers(a, c)).toBe(true);
      }
    }
  });
});

describe('app scope', () => {
  it('every app covers any scope; a list covers only its subsets, never every app', () => {
    expect(scopeCovers(null, null)).toBe(true);
    expect(scopeCovers(null, ['a'])).toBe(true);
    expect(scopeCovers(['a', 'b'], ['b'])).toBe(true);
    expect(scopeCovers(['a'], ['a', 'b'])).toBe(false);
    expect(scopeCovers(['a'], null)).toBe(false);
  });
});

describe(grantRefusal.name, () => {
  it('lets a key grant only a role it covers, for apps it reaches', () => {
    expect(grantRefusal(key('admin'), { role: 'admin', appIds: null })).toBeNull();
    expect(grantRefusal(key('release'), { role: 'viewer', appIds: null })).toBeNull();
    expect(grantRefusal(key('release'), { role: 'oncall', appIds: null })).toMatch(/may not create a key with role "oncall"/);
    expect(grantRefusal(key('oncall'), { role: 'admin', appIds: null })).toMatch(/role "admin"/);
    expect(grantRefusal(key('admin', ['a']), { role: 'viewer', appIds: null })).toMatch(/may not create a key for every app/);
    expect(grantRefusal(key('admin', ['a']), { role: 'viewer', appIds: ['a', 'b'] })).toMatch(/apps its creator can reach/);
    expect(grantRefusal(key('admin', ['a']), { role: 'viewer', appIds: ['a'] })).toBeNull();
  });
});

describe(permissionRefusal.name, () => {
  it('keeps key management, new apps and the audit log to admins; keys and apps to admins of every app', () => {
    expect(hasPermission(key('admin'), 'manage_keys')).toBe(true);
    expect(hasPermission(key('admin'), 'manage_apps')).toBe(true);
    expect(permissionRefusal(key('admin', ['a']), 'manage_keys')).toMatch(/limited to some apps may not manage keys/);
    expect(permissionRefusal(key('admin', ['a']), 'manage_apps')).toMatch(/limited to some apps may not manage apps/);
    expect(hasPermission(key('admin', ['a']), 'configure_app')).toBe(true);
    expect(hasPermission(key('admin', ['a']), 'read_audit')).toBe(true);
    expect(permissionRefusal(key('release'), 'read_audit')).toBe('an API key with role "release" may not read audit');
  });
});

describe(actorOf.name, () => {
  it('names the key by its id, never by the name its creator chose', () => {
    expect(actorOf({ keyId: '01jabc', name: 'bootstrap-admin', role: 'viewer', appIds: null })).toBe('key:01jabc');
  });
});
