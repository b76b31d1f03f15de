import type { RequestHandler } from 'express';
import type { ApiMetrics } from '../api-metrics';

/** One request in this many is timed: a finish listener and a labelled observation cost more than a check. */
export const DURATION_SAMPLE_EVERY = 8;

/**
 * Times a sample of requests, labelled by the matched route pattern (never the raw path: ids would
 * explode cardinality). Sampling keeps the distribution and spares the device hot path.
 */
export function requestMetrics(metrics: ApiMetrics): RequestHandler {
  let seen = 0;
  return (req, res, next) => {
    seen = (seen + 1) % DURATION_SAMPLE_EVERY;
    if (seen === 0) {
      const start = performance.now();
      res.once('finish', () => {
        const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
        metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, (performance.now() - start) / 1000);
      });
    }
    next();
  };
}
