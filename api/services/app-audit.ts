import { actorOf, type Principal } from '../../domain/access';
import type { Stores } from '../../db/create-stores';
import type { AuditEntry } from '../../db/stores/audit-store';

/**
 * Records what an API key did. The actor is the key's id, which its holder cannot choose; the name
 * and role ride along so a reader need not look the key up.
 */
export function auditByKey(stores: Pick<Stores, 'audit'>, principal: Principal, entry: Omit<AuditEntry, 'actor'>): Promise<void> {
  return stores.audit.record({ ...entry, actor: actorOf(principal), details: { ...entry.details, keyName: principal.name, keyRole: principal.role } });
}

/** Records who changed what in an app's configuration. */
export function auditAppAction(stores: Pick<Stores, 'audit'>, principal: Principal, action: string, appId: string, details: Record<string, unknown>): Promise<void> {
  return auditByKey(stores, principal, { action, target: `app:${appId}`, appId, reason: null, details });
}

/** A change devices' answers depend on: audited, then every API instance reloads the app's snapshot. */
export async function announceAppChange(
  stores: Pick<Stores, 'audit' | 'changeFeed'>,
  principal: Principal,
  action: string,
  appId: string,
  details: Record<string, unknown>,
): Promise<void> {
  await auditAppAction(stores, principal, action, appId, details);
  await stores.changeFeed.appChanged(appId);
}
