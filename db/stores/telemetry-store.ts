import type { GateMetric } from '../../domain/gates/gate-spec';
import { TERMINAL_STATUSES } from '../../domain/release';
import { col } from '../columns';
import type { Pool } from '../create-pool';
import { withTransaction } from '../create-pool';
import { metricBits } from './gate-window-store';

export interface DeviceEventRow {
  appId: string;
  deviceId: string;
  releaseId: string | null;
  segment: string;
  cohort: 'canary' | 'control' | 'none';
  type: string;
  bundleVersion: string;
  occurredAt: Date;
  receivedAt: Date;
  details: Record<string, unknown> | null;
}

/** One device-window of a release, already merged: at most one per key in a batch. */
export interface DeviceWindowRow {
  releaseId: string;
  windowStart: Date;
  deviceId: string;
  onCohortBundle: boolean;
  segment: string;
  slice: 'canary' | 'control';
  /** The gate metrics the device reported in the window. */
  metrics: readonly GateMetric[];
  events: number;
}

export interface TelemetryStore {
  /** Writes raw events and folds device-windows in one transaction: all of a batch or nothing. */
  write(events: DeviceEventRow[], windows: DeviceWindowRow[]): Promise<void>;
  /**
   * Deletes up to `limit` raw events received before `cutoff`, and device-windows of releases that
   * ended before it; small batches keep locks short. Returns how many rows went.
   */
  purge(cutoff: Date, limit: number): Promise<number>;
}

export function createTelemetryStore(pool: Pool): TelemetryStore {
  return {
    async purge(cutoff, limit) {
      const events = await pool.query(
        `DELETE FROM device_events WHERE id IN (SELECT e.id FROM device_events e WHERE e.received_at < $1 ORDER BY e.received_at LIMIT $2)`,
        [cutoff, limit],
      );
      const windows = await pool.query(
        `DELETE FROM release_device_windows WHERE ctid IN (
           SELECT w.ctid FROM release_device_windows w JOIN releases r ON r.id = w.release_id
           WHERE r.status = ANY($3::text[]) AND r.updated_at < $1 LIMIT $2)`,
        [cutoff, limit, TERMINAL_STATUSES],
      );
      return (events.rowCount ?? 0) + (windows.rowCount ?? 0);
    },
    async write(events, windows) {
      await withTransaction(pool, async (client) => {
        if (events.length > 0) {
          // unnest keeps a batch of any size to one statement with a fixed number of parameters.
          await client.query(
            `INSERT INTO device_events (app_id, device_id, release_id, segment, cohort, type, bundle_version, occurred_at, received_at, details)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[], $10::jsonb[])`,
            [
              col(events, 'appId'),
              col(events, 'deviceId'),
              col(events, 'releaseId'),
              col(events, 'segment'),
              col(events, 'cohort'),
              col(events, 'type'),
              col(events, 'bundleVersion'),
              col(events, 'occurredAt'),
              col(events, 'receivedAt'),
              events.map((e) => (e.details === null ? null : JSON.stringify(e.details))),
            ],
          );
        }
        if (windows.length > 0) {
          await client.query(
            `INSERT INTO release_device_windows AS w (release_id, window_start, device_id, on_cohort_bundle, segment, slice, metrics, events)
             SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::int[], $8::int[])
             ON CONFLICT (release_id, window_start, device_id, on_cohort_bundle)
             DO UPDATE SET metrics = w.metrics | EXCLUDED.metrics, events = w.events + EXCLUDED.events`,
            [
              col(windows, 'releaseId'),
              col(windows, 'windowStart'),
              col(windows, 'deviceId'),
              col(windows, 'onCohortBundle'),
              col(windows, 'segment'),
              col(windows, 'slice'),
              windows.map((w) => metricBits(w.metrics)),
              col(windows, 'events'),
            ],
          );
        }
      });
    },
  };
}
