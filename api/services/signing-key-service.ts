import type { Principal } from '../../domain/access';
import { ConflictError } from '../../domain/errors/conflict-error';
import { NotFoundError } from '../../domain/errors/not-found-error';
import type { Stores, Transactor } from '../../db/create-stores';
import type { PublishedSigningKey } from '../../db/stores/signing-key-store';
import { newSigningKeyPair } from '../../platform/answer-signing';
import { newId } from '../../platform/ids';
import { announceAppChange } from './app-audit';
import type { AppService } from './app-service';

export interface SigningKeyService {
  /** Public: the keys devices verify answers with (active first). Unknown apps are a NotFoundError. */
  published(appId: string): Promise<PublishedSigningKey[]>;
  /** A new active key; the previous one stays published for the overlap. */
  rotate(appId: string, principal: Principal): Promise<PublishedSigningKey[]>;
  /** Gives apps created before signing keys existed their first key; returns their ids. */
  ensureKeys(): Promise<string[]>;
}

export interface SigningKeyServiceDeps {
  stores: Pick<Stores, 'apps' | 'signingKeys' | 'changeFeed'>;
  transact: Transactor;
  apps: AppService;
  overlapMs: number;
}

export function createSigningKeyService(deps: SigningKeyServiceDeps): SigningKeyService {
  const { stores } = deps;
  return {
    async published(appId) {
      const keys = await stores.signingKeys.published(appId);
      if (keys.length === 0 && !(await stores.apps.get(appId))) throw new NotFoundError(`no app ${appId}`);
      return keys;
    },
    async rotate(appId, principal) {
      await deps.apps.get(appId, principal);
      await deps.transact(async (tx) => {
        await tx.signingKeys.retireActive(appId, new Date(Date.now() + deps.overlapMs));
        if (!(await tx.signingKeys.insert({ id: newId(), appId, ...newSigningKeyPair() }))) {
          throw new ConflictError(`the signing key of ${appId} was rotated concurrently; look at the published keys`, 'rotation_conflict');
        }
        await announceAppChange(tx, principal, 'signing_key.rotate', appId, { overlapMs: deps.overlapMs });
      });
      return stores.signingKeys.published(appId);
    },
    async ensureKeys() {
      const missing = await stores.signingKeys.appsWithoutActiveKey();
      const created: string[] = [];
      for (const appId of missing) {
        // Several API instances may start at once: the one-active-key index lets one of them win.
        if (await stores.signingKeys.insert({ id: newId(), appId, ...newSigningKeyPair() })) created.push(appId);
        await stores.changeFeed.appChanged(appId);
      }
      return created;
    },
  };
}
