import type { Principal } from '../../domain/access';
import type { Bundle } from '../../domain/bundle';
import { ConflictError } from '../../domain/errors/conflict-error';
import { ValidationError } from '../../domain/errors/validation-error';
import type { Stores, Transactor } from '../../db/create-stores';
import type { NewBundle } from '../../db/stores/bundle-store';
import { auditByKey } from './app-audit';
import type { AppService } from './app-service';

export interface BundleService {
  create(bundle: NewBundle, principal: Principal): Promise<Bundle>;
  list(appId: string, principal: Principal): Promise<Bundle[]>;
}

export function createBundleService(stores: Pick<Stores, 'bundles'>, apps: AppService, transact: Transactor): BundleService {
  return {
    async create(bundle, principal) {
      const app = await apps.get(bundle.appId, principal);
      if (!app.allowHttpBundles && new URL(bundle.url).protocol !== 'https:') {
        const problem = 'must be an https URL (create the app with allowHttpBundles to serve plain http)';
        throw new ValidationError(`url ${problem}`, [{ path: 'url', message: problem }]);
      }
      return transact(async (tx) => {
        const created = await tx.bundles.insert(bundle);
        if (!created) {
          throw new ConflictError(`app ${bundle.appId} has a bundle ${bundle.version} already; bundles are immutable, upload a new version`, 'bundle_exists');
        }
        await auditByKey(tx, principal, {
          action: 'bundle.create',
          target: `bundle:${bundle.appId}@${bundle.version}`,
          appId: bundle.appId,
          reason: null,
          details: { url: bundle.url, sha256: bundle.sha256, size: bundle.size },
        });
        return created;
      });
    },
    async list(appId, principal) {
      await apps.get(appId, principal);
      return stores.bundles.list(appId);
    },
  };
}
