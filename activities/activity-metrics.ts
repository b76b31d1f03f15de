import type { Registry } from 'prom-client';
import { createCounter, createHistogram } from '../platform/metrics';

export function createActivityMetrics(registry: Registry) {
  return {
    published: createCounter(registry, 'rampart_rollout_state_published_total', 'Rollout states published by workflows', ['status', 'written']),
    gateVerdicts: createCounter(registry, 'rampart_gate_verdicts_total', 'Gate evaluations by verdict', ['verdict']),
    experimentGuardrailVerdicts: createCounter(registry, 'rampart_experiment_guardrail_verdicts_total', 'Guardrail evaluations of experiment arms by verdict', ['verdict']),
    gateReadErrors: createCounter(registry, 'rampart_gate_read_errors_total', 'Gate evaluations whose counts could not be read'),
    gateBarrierWait: createHistogram(
      registry,
      'rampart_gate_barrier_wait_seconds',
      "Time a gate read waited at its release's barrier for the telemetry batches in flight to commit",
      [],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    ),
    gateSetAside: createCounter(
      registry,
      'rampart_gate_telemetry_set_aside_total',
      'Device-windows the telemetry trust model kept out of gate evidence (fresh or unserved ids; distrusted: whole windows whose new ids looked forged, which pause the release)',
      ['kind'],
    ),
    webhookDeliveries: createCounter(registry, 'rampart_webhook_deliveries_total', 'Webhook delivery attempts by outcome', ['outcome']),
    webhooksEnqueued: createCounter(registry, 'rampart_webhook_outbox_enqueued_total', 'Webhook deliveries written to the outbox'),
  };
}

export type ActivityMetrics = ReturnType<typeof createActivityMetrics>;
