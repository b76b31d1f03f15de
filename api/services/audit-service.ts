import { canAccessApp, type Principal } from '../../domain/access';
import { NotFoundError } from '../../domain/errors/not-found-error';
import type { Stores } from '../../db/create-stores';
import type { AuditRecord } from '../../db/stores/audit-store';

export interface AuditFilter {
  appId?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  target?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit: number;
}

export interface AuditService {
  /** Newest first; a key limited to some apps sees only those apps' rows. */
  search(filter: AuditFilter, principal: Principal): Promise<AuditRecord[]>;
}

export function createAuditService(stores: Pick<Stores, 'audit'>): AuditService {
  return {
    search(filter, principal) {
      if (filter.appId !== undefined && !canAccessApp(principal, filter.appId)) throw new NotFoundError(`no app ${filter.appId}`);
      return stores.audit.search({
        appIds: filter.appId !== undefined ? [filter.appId] : principal.appIds,
        actor: filter.actor,
        action: filter.action,
        target: filter.target,
        from: filter.from === undefined ? undefined : new Date(filter.from),
        to: filter.to === undefined ? undefined : new Date(filter.to),
        limit: filter.limit,
      });
    },
  };
}
