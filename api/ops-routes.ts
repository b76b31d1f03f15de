import { Router } from 'express';
import type { HealthStore } from '../db/stores/health-store';
import type { RolloutClient } from './services/rollout-client';
import type { RolloutSnapshot } from './snapshot/rollout-snapshot';

export interface OpsDeps {
  database: HealthStore;
  rollouts: RolloutClient;
  snapshot: RolloutSnapshot;
}

/** Liveness and readiness on the API port, for load balancers; `/metrics` is served on the ops port only. */
export function createOpsRoutes(deps: OpsDeps): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Ready means every dependency answers: device checks need the snapshot, admin calls PostgreSQL and Temporal.
  router.get('/readyz', async (_req, res) => {
    const [postgres, temporal] = await Promise.all([
      deps.database.isReachable(),
      deps.rollouts.isHealthy(),
    ]);
    const checks = { postgres, temporal, snapshot: deps.snapshot.isLoaded() };
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });

  return router;
}
