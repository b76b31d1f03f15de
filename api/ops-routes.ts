import { Router } from 'express';
import type { HealthStore } from '../db/stores/health-store';
import { healthReport, type HealthReport } from '../platform/dependency-health';
import type { RolloutClient } from './services/rollout-client';
import type { RolloutSnapshot } from './snapshot/rollout-snapshot';

export interface OpsDeps {
  database: HealthStore;
  rollouts: RolloutClient;
  snapshot: RolloutSnapshot;
}

const HEALTH_PROBE_INTERVAL_MS = 1000;

/**
 * Liveness and readiness on the API port, for load balancers; `/metrics` is served on the ops port only.
 * Ready means the snapshot is loaded: device checks are answered from memory, so an instance keeps
 * taking traffic while PostgreSQL or Temporal is down (admin calls then answer 503 with Retry-After).
 * `/healthz` always answers 200 while the process lives, and says which dependency is down.
 */
export function createOpsRoutes(deps: OpsDeps): Router {
  const router = Router();
  // The API port is public: however often `/healthz` is called, PostgreSQL and Temporal are probed once per interval.
  let probed: { at: number; report: Promise<HealthReport> } | null = null;
  const probe = () => {
    if (!probed || Date.now() - probed.at >= HEALTH_PROBE_INTERVAL_MS) {
      probed = { at: Date.now(), report: healthReport({ postgres: () => deps.database.isReachable(), temporal: () => deps.rollouts.isHealthy() }) };
    }
    return probed.report;
  };

  router.get('/healthz', async (_req, res) => {
    res.json({ ...(await probe()), snapshot: deps.snapshot.isLoaded() ? 'loaded' : 'loading' });
  });

  router.get('/readyz', (_req, res) => {
    const loaded = deps.snapshot.isLoaded();
    res.status(loaded ? 200 : 503).json({ status: loaded ? 'ready' : 'not_ready', snapshot: loaded ? 'loaded' : 'loading' });
  });

  return router;
}
