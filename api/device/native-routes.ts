import { Router } from 'express';
import type { BundleRef } from '../../domain/bundle';
import { NotFoundError } from '../../domain/errors/not-found-error';
import { DEFAULT_CHANNEL, DEFAULT_SEGMENT } from '../../domain/release';
import { decide } from '../../domain/serving';
import type { ApiMetrics } from '../api-metrics';
import { parse } from '../http/parse';
import type { RolloutSnapshot } from '../snapshot/rollout-snapshot';
import type { TelemetryService } from '../telemetry/telemetry-service';
import { checkRequestSchema, eventsRequestSchema } from './native-schemas';

function bundleBody(bundle: BundleRef) {
  return { version: bundle.version, url: bundle.url, sha256: bundle.sha256, size: bundle.size };
}

/** Rampart's own device protocol (v1): one answer per check, computed from the in-memory snapshot. */
export function createNativeDeviceRoutes(deps: { snapshot: RolloutSnapshot; metrics: ApiMetrics; telemetry: TelemetryService }): Router {
  const router = Router();

  router.post('/v1/apps/:appId/check', (req, res) => {
    const body = parse(checkRequestSchema, req.body);
    const app = deps.snapshot.app(req.params.appId);
    if (!app) throw new NotFoundError(`no app ${req.params.appId}`);
    const channel = body.channel ?? DEFAULT_CHANNEL;
    const decision = decide(app.channels.get(channel), { ...body, channel, segment: DEFAULT_SEGMENT });
    deps.metrics.updateChecks.inc({ protocol: 'native', action: decision.action, cohort: decision.cohort });
    switch (decision.action) {
      case 'none':
        res.json({ action: 'none' });
        return;
      case 'update':
        res.json({ action: 'update', bundle: bundleBody(decision.bundle), releaseId: decision.releaseId });
        return;
      case 'rollback':
        res.json({ action: 'rollback', bundle: decision.bundle ? bundleBody(decision.bundle) : null, releaseId: decision.releaseId });
        return;
    }
  });

  router.post('/v1/apps/:appId/events', async (req, res) => {
    const body = parse(eventsRequestSchema, req.body);
    if (!deps.snapshot.app(req.params.appId)) throw new NotFoundError(`no app ${req.params.appId}`);
    await deps.telemetry.ingest({
      appId: req.params.appId,
      deviceId: body.deviceId,
      channel: body.channel ?? DEFAULT_CHANNEL,
      segment: DEFAULT_SEGMENT,
      events: body.events.map(({ type, at, bundleVersion, ...details }) => ({
        type,
        at,
        bundleVersion,
        details: Object.keys(details).length > 0 ? details : null,
      })),
    });
    res.status(202).json({ accepted: body.events.length });
  });

  return router;
}
