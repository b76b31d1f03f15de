import type { Registry } from 'prom-client';
import { createCounter } from '../platform/metrics';

export function createActivityMetrics(registry: Registry) {
  return {
    published: createCounter(registry, 'rampart_rollout_state_published_total', 'Rollout states published by workflows', ['status', 'written']),
  };
}

export type ActivityMetrics = ReturnType<typeof createActivityMetrics>;
