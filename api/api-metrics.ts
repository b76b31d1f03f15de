import { Counter, type Registry } from 'prom-client';
import { createBatchedCounter, createCollectedGauge, createCounter, createGauge, createHistogram } from '../platform/metrics';
import type { ReleaseGaugeSource } from './release-gauges';

export function createApiMetrics(registry: Registry) {
  return {
    httpDuration: createHistogram(registry, 'rampart_http_request_duration_seconds', 'HTTP request durations by route and status, sampled (1 in 8 requests)', ['method', 'route', 'status'], [
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
    ]),
    updateChecks: createBatchedCounter(registry, 'rampart_update_checks_total', 'Device update checks answered', ['protocol', 'action', 'cohort']),
    experimentDecisions: createBatchedCounter(
      registry,
      'rampart_experiment_decisions_total',
      'Update checks answered for devices inside a running experiment, by arm role (control, treatment), install mode and action',
      ['role', 'install_mode', 'action'],
    ),
    snapshotApps: createGauge(registry, 'rampart_snapshot_apps', 'Apps held in the in-memory rollout snapshot'),
    snapshotReloads: createCounter(registry, 'rampart_snapshot_reloads_total', 'Snapshot loads from PostgreSQL', ['scope']),
    snapshotListenerReconnects: createCounter(registry, 'rampart_snapshot_listener_reconnects_total', 'Times the NOTIFY listener reconnected'),
    snapshotApplyLag: createHistogram(
      registry,
      'rampart_snapshot_apply_lag_seconds',
      'Time from a workflow publishing a rollout state to this instance serving it',
      [],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ),
    eventsIngested: createBatchedCounter(registry, 'rampart_device_events_ingested_total', 'Device events made durable', ['type', 'cohort']),
    telemetryBatchSize: createHistogram(registry, 'rampart_telemetry_batch_events', 'Events per group-committed write', [], [1, 5, 10, 50, 100, 500, 1000, 5000]),
    telemetryFlushSeconds: createHistogram(registry, 'rampart_telemetry_flush_seconds', 'Duration of one group-committed write', [], [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]),
    telemetryShed: createCounter(registry, 'rampart_telemetry_events_shed_total', 'Device events refused with 503 because the queue of events waiting to be written was full'),
    profileLoads: createCounter(registry, 'rampart_device_profile_loads_total', 'Device engagement loaded into the cache (dropped: not queued, the load queue was full)', ['outcome']),
    profileLoadsPending: createGauge(registry, 'rampart_device_profile_loads_pending', 'Devices whose engagement waits to be loaded, queued or loading (after a fleet of new devices, the backlog)'),
    profileWrites: createCounter(registry, 'rampart_device_profile_writes_total', 'Device profiles written in batches (error: kept for the next batch; dropped: buffer full; refused: PostgreSQL refused the row, dropped)', ['outcome']),
    servedWrites: createCounter(registry, 'rampart_served_devices_written_total', "Devices recorded as served in a release's slices, for the telemetry trust model (error: kept for the next batch; dropped: buffer full)", ['outcome']),
    sourceLimited: createCounter(registry, 'rampart_device_source_limited_total', 'Device requests refused by a per-source limit (client address): new device ids or events per window', ['limit']),
    profileCache: createBatchedCounter(registry, 'rampart_device_profile_cache_total', 'Engagement lookups on the hot path', ['result']),
    rateLimited: createCounter(registry, 'rampart_device_requests_rate_limited_total', 'Device requests refused by the per-device rate limit'),
    releasesStarted: createCounter(registry, 'rampart_releases_started_total', 'Releases started through the API', ['plan']),
    adminActions: createCounter(registry, 'rampart_admin_actions_total', 'State-changing admin calls', ['action', 'outcome']),
    releaseEventClients: createGauge(registry, 'rampart_release_event_clients', 'Live release pages streaming Server-Sent Events from this instance'),
    releaseEventsSent: createCounter(registry, 'rampart_release_events_sent_total', 'Server-Sent Events sent to live release pages', ['event']),
    releaseEventsRefused: createCounter(registry, 'rampart_release_events_refused_total', 'Event streams refused because this instance streams its maximum (the page polls instead)'),
    authFailures: createCounter(registry, 'rampart_admin_auth_failures_total', 'Admin API requests refused for a missing, unknown, revoked or expired key', ['reason']),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;

/**
 * Per-release gauges of the releases in flight (running or paused), computed at scrape time from the
 * snapshot and a cached read of the last hour's rollups; a release's series go when it ends.
 */
export function registerReleaseGauges(registry: Registry, source: ReleaseGaugeSource) {
  const release = ['app', 'version', 'segment'] as const;
  const counted = new WeakSet<object>();
  const dropped: Counter = new Counter({
    name: 'rampart_release_gauge_series_dropped_total',
    help: 'Per-release gauge series left out of scrapes: over the series cap, or a second in-flight release with the same app, version and segment',
    registers: [registry],
    // Counts the plan of the scrape being answered, once however many gauges share it.
    async collect() {
      const plan = await source.plan();
      if (counted.has(plan)) return;
      counted.add(plan);
      if (plan.dropped > 0) dropped.inc(plan.dropped);
    },
  });
  return {
    dropped,
    exposure: createCollectedGauge(registry, 'rampart_release_exposure_ratio', 'Share of the segment the release is exposed to (0..1)', release, async () => (await source.plan()).exposure),
    adoption: createCollectedGauge(
      registry,
      'rampart_release_adoption_ratio',
      "Devices on the release's bundle ÷ active devices, summed over the last hour's 5-minute rollup buckets",
      release,
      async () => (await source.plan()).adoption,
    ),
    updateSuccess: createCollectedGauge(
      registry,
      'rampart_release_update_success_ratio',
      'Installs ok ÷ (ok + failed) over the last hour',
      release,
      async () => (await source.plan()).updateSuccess,
    ),
    crashRate: createCollectedGauge(
      registry,
      'rampart_release_crash_rate',
      "Crashed devices ÷ active devices of the gate's canary and control cohorts, summed over the last hour's 5-minute rollup buckets",
      [...release, 'cohort'] as const,
      async () => (await source.plan()).crashRate,
    ),
  };
}
