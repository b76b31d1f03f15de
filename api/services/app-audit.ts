import { actorOf, type Principal } from '../../domain/access';
import type { Stores } from '../../db/create-stores';

/** Records who changed what in an app's configuration. */
export function auditAppAction(stores: Pick<Stores, 'audit'>, principal: Principal, action: string, appId: string, details: Record<string, unknown>): Promise<void> {
  return stores.audit.record({ actor: actorOf(principal), action, target: `app:${appId}`, reason: null, details });
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
