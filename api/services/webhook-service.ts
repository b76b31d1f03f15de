import type { Principal } from '../../domain/access';
import { NotFoundError } from '../../domain/errors/not-found-error';
import type { Stores, Transactor } from '../../db/create-stores';
import type { Webhook } from '../../db/stores/webhook-store';
import { newId, newSecret } from '../../platform/ids';
import { auditAppAction } from './app-audit';
import type { AppService } from './app-service';

export interface WebhookService {
  /** The secret signs every delivery; it is returned here and never again. */
  create(appId: string, input: { url: string; events: string[] }, principal: Principal): Promise<Webhook>;
  list(appId: string, principal: Principal): Promise<Webhook[]>;
  remove(appId: string, id: string, principal: Principal): Promise<void>;
}

export function createWebhookService(stores: Pick<Stores, 'webhooks'>, apps: AppService, transact: Transactor): WebhookService {
  return {
    async create(appId, input, principal) {
      await apps.get(appId, principal);
      return transact(async (tx) => {
        const webhook = await tx.webhooks.insert({ id: newId(), appId, url: input.url, events: input.events, secret: newSecret('whsec_') });
        await auditAppAction(tx, principal, 'webhook.create', appId, { id: webhook.id, url: webhook.url, events: webhook.events });
        return webhook;
      });
    },
    async list(appId, principal) {
      await apps.get(appId, principal);
      return stores.webhooks.listForApp(appId);
    },
    async remove(appId, id, principal) {
      await apps.get(appId, principal);
      await transact(async (tx) => {
        if (!(await tx.webhooks.remove(appId, id))) throw new NotFoundError(`app ${appId} has no webhook ${id}`);
        await auditAppAction(tx, principal, 'webhook.delete', appId, { id });
      });
    },
  };
}
