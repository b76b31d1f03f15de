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

/** Reads of raw device events for people; writes and retention belong to the telemetry store. */
export interface DeviceEventStore {
  /** The device's latest events, newest first (served by the index device_events_by_device). */
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
      // A batch shares one received_at: the id keeps its events in arrival order.
      const { rows } = await db.query<EventRow>(
        `SELECT e.type, e.bundle_version, e.occurred_at, e.received_at, e.release_id, e.segment, e.cohort, e.details
         FROM device_events e WHERE e.app_id = $1 AND e.device_id = $2
         ORDER BY e.received_at DESC, e.id DESC LIMIT $3`,
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
