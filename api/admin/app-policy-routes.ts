import { Router } from 'express';
import { authorize } from '../http/auth';
import { parse } from '../http/parse';
import type { AppPolicyService } from '../services/app-policy-service';
import { updateAppPolicySchema } from './schemas';

export function createAppPolicyRoutes(deps: { policies: AppPolicyService }): Router {
  const router = Router();

  router.get('/v1/apps/:appId/policy', async (req, res) => {
    const principal = authorize(res, 'manage_policy', req.params.appId);
    res.json(await deps.policies.get(req.params.appId, principal));
  });

  router.put('/v1/apps/:appId/policy', async (req, res) => {
    const principal = authorize(res, 'manage_policy', req.params.appId);
    const body = parse(updateAppPolicySchema, req.body);
    res.json(await deps.policies.update(req.params.appId, body, principal));
  });

  return router;
}
