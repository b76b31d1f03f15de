import { Router } from 'express';
import { authorize } from '../http/auth';
import { parse } from '../http/parse';
import type { ExperimentService } from '../services/experiment-service';
import { startInputOf } from './releases-routes';
import { createExperimentSchema, promoteArmSchema, stopArmSchema } from './experiment-schemas';

/** The URL segment of each arm command, as the CLI spells it too. */
const ARM_COMMAND_PATHS = [
  ['stop-arm', 'stopArm', stopArmSchema],
  ['promote-arm', 'promoteArm', promoteArmSchema],
] as const;

export function createExperimentsRoutes(deps: { experiments: ExperimentService }): Router {
  const router = Router();

  router.post('/v1/apps/:appId/experiments', async (req, res) => {
    const principal = authorize(res, 'start_releases', req.params.appId);
    const body = parse(createExperimentSchema, req.body);
    const { release, warnings } = await deps.experiments.start(
      // An experiment's arms are its bundles; a segment mapping would contradict them.
      { ...startInputOf(req.params.appId, body), segmentBundles: {}, experiment: body.definition },
      principal,
    );
    res.status(201).json({ id: release.id, appId: release.appId, channel: release.channel, kind: 'experiment', status: release.status, workflowId: release.workflowId, warnings });
  });

  router.get('/v1/releases/:id/experiment', async (req, res) => {
    const principal = authorize(res, 'read');
    res.json(await deps.experiments.results(req.params.id, principal));
  });

  for (const [path, name, schema] of ARM_COMMAND_PATHS) {
    router.post(`/v1/releases/:id/${path}`, async (req, res) => {
      const principal = authorize(res, 'command_releases');
      const body = parse(schema, req.body ?? {});
      res.json(await deps.experiments.armCommand(req.params.id, name, body.arm, body.reason, principal, req.get('idempotency-key')));
    });
  }

  return router;
}
