import { actorOf, canAccessApp, type Principal } from '../../domain/access';
import type { App } from '../../domain/app';
import { ConflictError } from '../../domain/errors/conflict-error';
import { NotFoundError } from '../../domain/errors/not-found-error';
import type { Stores } from '../../db/create-stores';
import { newSecret } from '../../platform/ids';

export interface AppService {
  create(input: { id: string; name: string }, principal: Principal): Promise<App>;
  /** The app, if it exists and the caller may see it (else NotFoundError: ids of other apps never leak). */
  get(appId: string, principal: Principal): Promise<App>;
  list(principal: Principal): Promise<App[]>;
}

export function createAppService(stores: Pick<Stores, 'apps' | 'audit' | 'changeFeed'>): AppService {
  return {
    async create(input, principal) {
      const app = await stores.apps.insert({ id: input.id, name: input.name, signingKey: newSecret() });
      if (!app) throw new ConflictError(`app ${input.id} exists already`, 'app_exists');
      await stores.audit.record({ actor: actorOf(principal), action: 'app.create', target: `app:${app.id}`, reason: null, details: { name: app.name } });
      await stores.changeFeed.appChanged(app.id);
      return app;
    },
    async get(appId, principal) {
      const app = canAccessApp(principal, appId) ? await stores.apps.get(appId) : null;
      if (!app) throw new NotFoundError(`no app ${appId}`);
      return app;
    },
    list(principal) {
      return stores.apps.list(principal.appIds ?? undefined);
    },
  };
}
