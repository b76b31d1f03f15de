import { Router } from 'express';
import { authorize } from '../http/auth';
import { parse } from '../http/parse';
import type { WebhookService } from '../services/webhook-service';
import { createWebhookSchema } from './schemas';

export function createWebhooksRoutes(deps: { webhooks: WebhookService }): Router {
  const router = Router();

  router.post('/v1/apps/:appId/webhooks', async (req, res) => {
    const principal = authorize(res, 'configure_app', req.params.appId);
    const body = parse(createWebhookSchema, req.body);
    const webhook = await deps.webhooks.create(req.params.appId, body, principal);
    const { id, appId, url, events, createdAt } = webhook;
    res.status(201).json({ id, appId, url, urlRedacted: false, events, createdAt, secret: webhook.secret });
  });

  router.get('/v1/apps/:appId/webhooks', async (req, res) => {
    const principal = authorize(res, 'read', req.params.appId);
    res.json({ webhooks: await deps.webhooks.list(req.params.appId, principal) });
  });

  router.delete('/v1/apps/:appId/webhooks/:id', async (req, res) => {
    const principal = authorize(res, 'configure_app', req.params.appId);
    await deps.webhooks.remove(req.params.appId, req.params.id, principal);
    res.status(204).end();
  });

  return router;
}
