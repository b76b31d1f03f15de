import type { DeviceEventRow, DeviceWindowRow, TelemetryStore } from '../../db/stores/telemetry-store';
import type { GateMetric } from '../../domain/gates/gate-spec';
import { NO_ROLLUPS, foldRollups, rollupCohortOf, type RollupEvent } from '../../domain/insight';
import { armCohort } from '../../domain/experiment';
import { targetFor } from '../../domain/personalization';
import { attributeEvent, GATE_METRIC_OF, type EventType } from '../../domain/telemetry';
import { isDataException } from '../../db/pg-errors';
import { UnavailableError } from '../../domain/errors/unavailable-error';
import { ValidationError } from '../../domain/errors/validation-error';
import { CommitQueueFull, createGroupCommitter } from '../../platform/group-commit';
import type { ApiMetrics } from '../api-metrics';
import type { RolloutSnapshot } from '../snapshot/rollout-snapshot';

export interface IncomingEvent {
  /** One of EVENT_TYPES, or a protocol's own action kept for analytics (e.g. `capgo:download_complete`). */
  type: EventType | (string & {});
  at: Date;
  bundleVersion: string;
  details: Record<string, unknown> | null;
  /** False for events that must not reach the gates (emulators and debug builds, as Capgo filters). */
  countsForGates?: boolean;
}

export interface IngestRequest {
  appId: string;
  deviceId: string;
  /** null: no channel serves the device; its events are kept but attributed to no release. */
  channel: string | null;
  segment: string;
  events: IncomingEvent[];
}

interface Prepared {
  event: DeviceEventRow;
  window: DeviceWindowRow | null;
  rollup: RollupEvent | null;
}

export interface TelemetryService {
  /** Resolves once every event is durable in PostgreSQL (the caller may then answer 2xx). */
  ingest(request: IngestRequest): Promise<void>;
  drain(): Promise<void>;
}

// A batch files all its device-windows of a release under one window (the store chooses it).
const windowKey = (w: DeviceWindowRow) => `${w.releaseId}\u0000${w.deviceId}\u0000${w.onCohortBundle}`;

/**
 * ON CONFLICT cannot touch one row twice in a statement, so a batch folds its own duplicates first;
 * sorted by key, so that batches of two API instances lock the rows they share in the same order.
 */
export function mergeWindows(windows: DeviceWindowRow[]): DeviceWindowRow[] {
  const merged = new Map<string, DeviceWindowRow>();
  for (const w of windows) {
    const key = windowKey(w);
    const seen = merged.get(key);
    if (seen) {
      seen.metrics = [...new Set([...seen.metrics, ...w.metrics])];
      seen.events += w.events;
    } else {
      merged.set(key, { ...w });
    }
  }
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, w]) => w);
}

export interface TelemetryServiceDeps {
  snapshot: RolloutSnapshot;
  store: TelemetryStore;
  metrics: ApiMetrics;
  maxBatch: number;
  /** Events waiting to be written; beyond, requests are shed (503) rather than held in memory. */
  maxQueued: number;
  /** Off, batches add nothing to the release rollups (ApiTuning.insightRollups). */
  rollups: boolean;
}

export function createTelemetryService(deps: TelemetryServiceDeps): TelemetryService {
  const committer = createGroupCommitter<Prepared>(async (items) => {
    const started = process.hrtime.bigint();
    // Rows are filed under the counting window in which their batch commits (the store chooses it
    // behind the gate's barrier), not the one in which the request arrived: a batch that waited behind
    // another would otherwise land in windows a gate has already read, and never count.
    await deps.store.write(
      items.map((i) => i.event),
      mergeWindows(items.flatMap((i) => (i.window ? [i.window] : []))),
      deps.rollups ? foldRollups(items.flatMap((i) => (i.rollup ? [i.rollup] : []))) : NO_ROLLUPS,
    );
    deps.metrics.telemetryBatchSize.observe(items.length);
    deps.metrics.telemetryFlushSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }, { maxBatch: deps.maxBatch, maxQueued: deps.maxQueued, maySplit: isDataException });

  return {
    async ingest(request) {
      // One instant for the request, shared by its rows (none changes it).
      const receivedAt = new Date();
      const serving = request.channel === null ? undefined : deps.snapshot.app(request.appId)?.serving.get(request.channel);
      // Adoption counts the device's own segment's bundle (a personalized release has several).
      const targetVersion = serving && targetFor(serving.current, request.segment).version;
      const prepared = request.events.map((e): Prepared => {
        const a = attributeEvent(serving, request.deviceId, request.segment, e.bundleVersion);
        const metric = (GATE_METRIC_OF as Partial<Record<string, GateMetric>>)[e.type];
        const window: DeviceWindowRow | null =
          a.slice && a.releaseId && a.windowMs && e.countsForGates !== false
            ? {
                releaseId: a.releaseId,
                windowMs: a.windowMs,
                deviceId: request.deviceId,
                onCohortBundle: a.onCohortBundle,
                segment: request.segment,
                slice: a.slice,
                metrics: metric ? [metric] : [],
                events: 1,
              }
            : null;
        return {
          event: {
            appId: request.appId,
            deviceId: request.deviceId,
            releaseId: a.releaseId,
            segment: request.segment,
            cohort: a.cohort,
            type: e.type,
            bundleVersion: e.bundleVersion,
            occurredAt: e.at,
            receivedAt,
            details: e.details,
          },
          window,
          rollup: a.releaseId
            ? {
                appId: request.appId,
                releaseId: a.releaseId,
                segment: request.segment,
                cohort: a.arm === null ? rollupCohortOf(a.cohort) : armCohort(a.arm),
                deviceId: request.deviceId,
                type: e.type,
                // An arm's devices are "on the release" on their arm's bundle: its adoption.
                onRelease: a.arm === null ? e.bundleVersion === targetVersion : a.onCohortBundle,
                occurredAtMs: e.at.getTime(),
                details: e.details,
              }
            : null,
        };
      });
      try {
        await committer.submit(prepared);
      } catch (err) {
        if (err instanceof CommitQueueFull) {
          deps.metrics.telemetryShed.inc(prepared.length);
          throw new UnavailableError('too many events are waiting to be written; send these again later', 'ingestion_overloaded');
        }
        // The committer has written this request alone: PostgreSQL refused its own data.
        if (isDataException(err)) throw new ValidationError(`the events cannot be stored: ${err.message}`, [{ path: 'events', message: err.message }]);
        throw err;
      }
      for (const p of prepared) deps.metrics.eventsIngested.inc(p.event.type, p.event.cohort);
    },
    drain: () => committer.drain(),
  };
}
