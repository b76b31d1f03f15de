import type { Queryable } from '../create-pool';

/** A raw device event as a device's story shows it. */
export interface RecentDeviceEvent {
  type: string;
  bundleVersion: string;
  occurredAt: Date;
  receivedAt: Date;
  releaseId: string | null;
  segment: string;
  cohort: 'canary' | 'control' | 'none';
  details: Record<string, unknown> | null;
}

/** Reads of raw device events (kept as reports) for people; writes and retention belong to the telemetry store. */
export interface DeviceEventStore {
  /** The device's latest events, newest first (served by the index device_reports_by_device). */
  recent(appId: string, deviceId: string, limit: number): Promise<RecentDeviceEvent[]>;
}

interface EventRow {
  type: string;
  bundle_version: string;
  occurred_at: Date;
  received_at: Date;
  release_id: string | null;
  segment: string;
  cohort: RecentDeviceEvent['cohort'];
  details: Record<string, unknown> | null;
}

export function createDeviceEventStore(db: Queryable): DeviceEventStore {
  return {
    async recent(appId, deviceId, limit) {
      // Every report holds at least one event, so the latest `limit` reports hold the latest events;
      // reports arriving in the same millisecond keep their order by id, a report's events by place.
      const { rows } = await db.query<EventRow>(
        `SELECT e.type, e.bundle_version, e.occurred_at, r.received_at, e.release_id, r.segment, e.cohort, e.details
         FROM (SELECT d.id, d.received_at, d.segment, d.types, d.bundle_versions, d.occurred_at, d.release_ids, d.cohorts, d.details
               FROM device_reports d WHERE d.app_id = $1 AND d.device_id = $2
               ORDER BY d.received_at DESC, d.id DESC LIMIT $3) r
         CROSS JOIN LATERAL unnest(r.types, r.bundle_versions, r.occurred_at, r.release_ids, r.cohorts, r.details)
           WITH ORDINALITY AS e (type, bundle_version, occurred_at, release_id, cohort, details, seq)
         ORDER BY r.received_at DESC, r.id DESC, e.seq DESC LIMIT $3`,
        [appId, deviceId, limit],
      );
      return rows.map((r) => ({
        type: r.type,
        bundleVersion: r.bundle_version,
        occurredAt: r.occurred_at,
        receivedAt: r.received_at,
        releaseId: r.release_id,
        segment: r.segment,
        cohort: r.cohort,
        details: r.details,
      }));
    },
  };
}
