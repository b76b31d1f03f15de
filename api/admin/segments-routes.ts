import { Router } from 'express';
import type { SegmentDefinition } from '../../domain/segment';
import { authorize } from '../http/auth';
import { parse } from '../http/parse';
import type { SegmentService } from '../services/segment-service';
import { createSegmentSchema, forceQuerySchema, updateSegmentSchema } from './schemas';

const segmentResponse = (s: SegmentDefinition) => ({ key: s.key, rule: s.rule, priority: s.priority, maintenanceWindows: s.maintenanceWindows });

export function createSegmentsRoutes(deps: { segments: SegmentService }): Router {
  const router = Router();

  router.post('/v1/apps/:appId/segments', async (req, res) => {
    const principal = authorize(res, 'configure_app', req.params.appId);
    const { force, ...segment } = parse(createSegmentSchema, req.body);
    res.status(201).json(segmentResponse(await deps.segments.create(req.params.appId, segment, principal, { force })));
  });

  router.get('/v1/apps/:appId/segments', async (req, res) => {
    const principal = authorize(res, 'read', req.params.appId);
    res.json({ segments: (await deps.segments.list(req.params.appId, principal)).map(segmentResponse) });
  });

  router.put('/v1/apps/:appId/segments/:key', async (req, res) => {
    const principal = authorize(res, 'configure_app', req.params.appId);
    const { force, ...changes } = parse(updateSegmentSchema, req.body);
    res.json(segmentResponse(await deps.segments.update(req.params.appId, req.params.key, changes, principal, { force })));
  });

  router.delete('/v1/apps/:appId/segments/:key', async (req, res) => {
    const principal = authorize(res, 'configure_app', req.params.appId);
    const { force } = parse(forceQuerySchema, req.query, 'query string');
    await deps.segments.remove(req.params.appId, req.params.key, principal, { force });
    res.status(204).end();
  });

  return router;
}
