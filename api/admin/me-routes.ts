import { Router } from 'express';
import { permissionsOf } from '../../domain/access';
import { principalOf } from '../http/auth';

/** Who the key is: what a client such as the dashboard needs to show only what the key may do. */
export function createMeRoutes(): Router {
  const router = Router();

  router.get('/v1/me', (_req, res) => {
    const principal = principalOf(res);
    res.json({ keyId: principal.keyId, name: principal.name, role: principal.role, appIds: principal.appIds, permissions: permissionsOf(principal) });
  });

  return router;
}
