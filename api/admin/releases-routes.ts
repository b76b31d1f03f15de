import { Router } from 'express';
import type { Release } from '../../domain/release';
import { authorize } from '../http/auth';
import { parse } from '../http/parse';
import type { InsightService } from '../services/insight-service';
import type { ReleaseService, StartReleaseInput } from '../services/release-service';
import type { ReleaseEvents } from '../release-events';
import { COMMAND_PATHS } from '../../domain/rollout-machine';
import { commandSchema, createReleaseSchema, insightsQuerySchema, listReleasesQuerySchema } from './schemas';

function releaseSummary(release: Release) {
  return {
    id: release.id,
    appId: release.appId,
    channel: release.channel,
    version: release.version,
    baselineVersion: release.baselineVersion,
    status: release.status,
    workflowId: release.workflowId,
    createdBy: release.createdBy,
    createdAt: release.createdAt,
    updatedAt: release.updatedAt,
  };
}

/** What a release's and an experiment's start share, from the app and the parsed body. */
export function startInputOf(appId: string, body: Pick<StartReleaseInput, 'version' | 'channel' | 'plan' | 'timeScale' | 'supersede' | 'force' | 'notifications'>) {
  const { version, channel, plan, timeScale, supersede, force, notifications } = body;
  return { appId, version, channel, plan, timeScale, supersede, force, notifications };
}

export function createReleasesRoutes(deps: { releases: ReleaseService; insights: InsightService; releaseEvents: ReleaseEvents }): Router {
  const router = Router();

  router.post('/v1/apps/:appId/releases', async (req, res) => {
    const principal = authorize(res, 'start_releases', req.params.appId);
    const body = parse(createReleaseSchema, req.body);
    const { release, warnings } = await deps.releases.start({ ...startInputOf(req.params.appId, body), segmentBundles: body.segmentBundles }, principal);
    res.status(201).json({ ...releaseSummary(release), warnings });
  });

  router.get('/v1/apps/:appId/releases', async (req, res) => {
    const principal = authorize(res, 'read', req.params.appId);
    const query = parse(listReleasesQuerySchema, req.query, 'query string');
    res.json({ releases: (await deps.releases.list(req.params.appId, principal, query)).map(releaseSummary) });
  });

  router.get('/v1/releases/:id', async (req, res) => {
    const principal = authorize(res, 'read');
    res.json(await deps.releases.get(req.params.id, principal));
  });

  router.get('/v1/releases/:id/notifications', async (req, res) => {
    const principal = authorize(res, 'read');
    res.json({ notifications: await deps.releases.notifications(req.params.id, principal) });
  });

  router.get('/v1/releases/:id/insights', async (req, res) => {
    const principal = authorize(res, 'read');
    const query = parse(insightsQuerySchema, req.query, 'query string');
    res.type('json').send(await deps.insights.get(req.params.id, query, principal));
  });

  router.get('/v1/releases/:id/events', async (req, res) => {
    const principal = authorize(res, 'read');
    // Also the access check: a release outside the caller's apps is not found.
    await deps.releases.get(req.params.id, principal);
    deps.releaseEvents.open(res, req.params.id);
  });

  for (const [path, name] of COMMAND_PATHS) {
    router.post(`/v1/releases/:id/${path}`, async (req, res) => {
      const principal = authorize(res, 'command_releases');
      const body = parse(commandSchema, req.body ?? {});
      const key = req.get('idempotency-key');
      res.json(await deps.releases.command(req.params.id, name, body.reason, principal, key));
    });
  }

  // After the commands: on-call's way out when the workflow that should answer them is gone.
  router.post('/v1/releases/:id/force-withdraw', async (req, res) => {
    const principal = authorize(res, 'command_releases');
    const body = parse(commandSchema, req.body ?? {});
    res.json(await deps.releases.forceWithdraw(req.params.id, body.reason, principal));
  });

  return router;
}
