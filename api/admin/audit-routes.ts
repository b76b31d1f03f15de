import { Router } from 'express';
import { authorize } from '../http/auth';
import { parse } from '../http/parse';
import type { AuditService } from '../services/audit-service';
import { auditQuerySchema } from './schemas';

export function createAuditRoutes(deps: { audit: AuditService }): Router {
  const router = Router();

  router.get('/v1/audit', async (req, res) => {
    const principal = authorize(res, 'read_audit');
    const query = parse(auditQuerySchema, req.query, 'query string');
    res.json({ entries: await deps.audit.search(query, principal) });
  });

  return router;
}
