import { Router } from 'express';
import type { ApiKey } from '../../db/stores/api-key-store';
import { authorize } from '../http/auth';
import { parse } from '../http/parse';
import type { ApiKeyService } from '../services/api-key-service';
import { createApiKeySchema } from './schemas';

function keyResponse(key: ApiKey) {
  return {
    id: key.keyId,
    name: key.name,
    role: key.role,
    appIds: key.appIds,
    createdAt: key.createdAt,
    expiresAt: key.expiresAt,
    revokedAt: key.revokedAt,
    lastUsedAt: key.lastUsedAt,
  };
}

export function createApiKeysRoutes(deps: { apiKeys: ApiKeyService }): Router {
  const router = Router();

  router.post('/v1/api-keys', async (req, res) => {
    const principal = authorize(res, 'manage_keys');
    const body = parse(createApiKeySchema, req.body);
    const { key, apiKey } = await deps.apiKeys.create(body, principal);
    res.status(201).json({ ...keyResponse(apiKey), key });
  });

  router.get('/v1/api-keys', async (_req, res) => {
    authorize(res, 'manage_keys');
    res.json({ apiKeys: (await deps.apiKeys.list()).map(keyResponse) });
  });

  router.delete('/v1/api-keys/:id', async (req, res) => {
    const principal = authorize(res, 'manage_keys');
    res.json(keyResponse(await deps.apiKeys.revoke(req.params.id, principal)));
  });

  return router;
}
