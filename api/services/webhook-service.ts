import { hasPermission, type Principal } from '../../domain/access';
import { NotFoundError } from '../../domain/errors/not-found-error';
import { ValidationError } from '../../domain/errors/validation-error';
import type { Stores, Transactor } from '../../db/create-stores';
import type { Webhook } from '../../db/stores/webhook-store';
import { newId, newSecret } from '../../platform/ids';
import { receiverUrlProblem, redactUrl } from '../../platform/public-address';
import { auditAppAction } from './app-audit';
import type { AppService } from './app-service';

/** A webhook as a caller may see it: the URL only in full for those who may configure the app. */
export interface WebhookView {
  id: string;
  appId: string;
  url: string;
  urlRedacted: boolean;
  events: string[];
  createdAt: string;
}

export interface WebhookService {
  /** The secret signs every delivery; it is returned here and never again. */
  create(appId: string, input: { url: string; events: string[] }, principal: Principal): Promise<Webhook>;
  list(appId: string, principal: Principal): Promise<WebhookView[]>;
  remove(appId: string, id: string, principal: Principal): Promise<void>;
  /** Seals webhooks stored before sealing existed. */
  sealPlaintext(): Promise<number>;
}

export interface WebhookServiceDeps {
  stores: Pick<Stores, 'webhooks'>;
  apps: AppService;
  transact: Transactor;
  /** Development and tests: http and loopback or private receivers. */
  allowPrivate: boolean;
}

export function createWebhookService(deps: WebhookServiceDeps): WebhookService {
  const { stores, apps, transact } = deps;
  return {
    async create(appId, input, principal) {
      await apps.get(appId, principal);
      // DNS names are checked again on every delivery, against the address actually dialed.
      const problem = receiverUrlProblem(input.url, deps.allowPrivate);
      if (problem) throw new ValidationError(`url ${problem}`, [{ path: 'url', message: problem }]);
      return transact(async (tx) => {
        const webhook = await tx.webhooks.insert({ id: newId(), appId, url: input.url, events: input.events, secret: newSecret('whsec_') });
        await auditAppAction(tx, principal, 'webhook.create', appId, { id: webhook.id, url: redactUrl(webhook.url), events: webhook.events });
        return webhook;
      });
    },
    async list(appId, principal) {
      await apps.get(appId, principal);
      const full = hasPermission(principal, 'configure_app');
      return (await stores.webhooks.listForApp(appId)).map((w) => ({
        id: w.id,
        appId: w.appId,
        url: full ? w.url : redactUrl(w.url),
        urlRedacted: !full,
        events: w.events,
        createdAt: w.createdAt,
      }));
    },
    async remove(appId, id, principal) {
      await apps.get(appId, principal);
      await transact(async (tx) => {
        if (!(await tx.webhooks.remove(appId, id))) throw new NotFoundError(`app ${appId} has no webhook ${id}`);
        await auditAppAction(tx, principal, 'webhook.delete', appId, { id });
      });
    },
    sealPlaintext: () => stores.webhooks.sealPlaintextRows(),
  };
}
