import { canAccessApp, type Principal } from '../../domain/access';
import type { App } from '../../domain/app';
import { ConflictError } from '../../domain/errors/conflict-error';
import { NotFoundError } from '../../domain/errors/not-found-error';
import type { Stores, Transactor } from '../../db/create-stores';
import { announceAppChange } from './app-audit';
import { PRODUCTION_CHANNEL } from '../../domain/channel';
import { newDeploymentKey, newId } from '../../platform/ids';
import { newSigningKeyPair } from '../../platform/answer-signing';

export interface AppService {
  create(input: { id: string; name: string; allowHttpBundles: boolean; defaultTimeZone: string }, principal: Principal): Promise<App>;
  /** The app, if it exists and the caller may see it (else NotFoundError: ids of other apps never leak). */
  get(appId: string, principal: Principal): Promise<App>;
  list(principal: Principal): Promise<App[]>;
}

export function createAppService(stores: Pick<Stores, 'apps'>, transact: Transactor): AppService {
  return {
    create(input, principal) {
      // Every app starts with its public production channel and its signing key, in the same transaction.
      return transact(async (tx) => {
        const app = await tx.apps.insert(input);
        if (!app) throw new ConflictError(`app ${input.id} exists already`, 'app_exists');
        await tx.channels.insert({ appId: app.id, ...PRODUCTION_CHANNEL, deploymentKey: newDeploymentKey() });
        await tx.signingKeys.insert({ id: newId(), appId: app.id, ...newSigningKeyPair() });
        await announceAppChange(tx, principal, 'app.create', app.id, { name: app.name, allowHttpBundles: app.allowHttpBundles, defaultTimeZone: app.defaultTimeZone });
        return app;
      });
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
