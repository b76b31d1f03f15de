import type { Registry } from 'prom-client';
import type { DeviceProfileStore } from '../db/stores/device-profile-store';
import type { RollupStore } from '../db/stores/rollup-store';
import type { SegmentNotificationStore } from '../db/stores/segment-notification-store';
import type { TelemetryStore } from '../db/stores/telemetry-store';
import type { Logger } from '../platform/logger';
import { EVENT_CLOCK } from '../domain/telemetry';
import { DAY_MS } from '../domain/time';
import { createBackgroundLoop, type BackgroundLoop } from '../platform/background-loop';

const BATCH = 10_000;

export interface RetentionSettings {
  eventRetentionDays: number;
  rollupRetentionDays: number;
  /** Daily partitions of raw events kept ready from today on (2: today's and tomorrow's). */
  partitionsAhead: number;
  intervalMs: number;
}

/** What one pass changed. */
export interface RetentionPass {
  partitionsCreated: string[];
  partitionsDropped: string[];
  /** Device-windows, rollup rows, empty device activity counters and device rows of expired notification tokens deleted. */
  rowsDeleted: number;
  /** Notification tokens that expired and were forgotten. */
  tokensForgotten: number;
}

/** `start` resolves once the first pass has run: today's and tomorrow's partitions exist then. */
export interface RetentionJob extends BackgroundLoop {
  runOnce(now?: number): Promise<RetentionPass>;
}

async function deleteInBatches(purge: () => Promise<number>, onDeleted?: (rows: number) => void): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await purge();
    total += deleted;
    onDeleted?.(deleted);
    if (deleted < BATCH) return total;
  }
}

/**
 * Keeps storage bounded: creates raw events' daily partitions ahead, drops whole partitions past the
 * event retention, deletes device-windows of releases finished before it, rollups past theirs,
 * device activity counters left at zero, and the device lists behind expired notification tokens
 * (then the tokens). Every worker runs it; each step is idempotent, so several workers only share
 * the work.
 */
export function createRetentionJob(
  deps: {
    telemetry: TelemetryStore;
    rollups: RollupStore;
    profiles: Pick<DeviceProfileStore, 'purgeEmptyActivitySlots'>;
    notifications: Pick<SegmentNotificationStore, 'purgeExpiredDevices' | 'forgetExpiredTokens'>;
    logger: Logger;
    /** Counts failed passes. */
    registry: Registry;
    settings: RetentionSettings;
    onDeleted?: (rows: number) => void;
  },
): RetentionJob {
  const { settings } = deps;

  const runOnce = async (now = Date.now()): Promise<RetentionPass> => {
    const eventCutoff = new Date(now - settings.eventRetentionDays * DAY_MS);
    const rollupCutoff = new Date(now - settings.rollupRetentionDays * DAY_MS);
    // A device may still report an event this old; its bucket must still know which devices it counted.
    const membershipKeptMs = Math.max(settings.eventRetentionDays * DAY_MS, EVENT_CLOCK.maxAgeMs + DAY_MS);
    const membershipCutoff = new Date(Math.max(now - membershipKeptMs, rollupCutoff.getTime()));
    const partitionsCreated = await deps.telemetry.ensurePartitions(new Date(now), settings.partitionsAhead);
    const partitionsDropped = await deps.telemetry.dropPartitionsBefore(eventCutoff);
    let rowsDeleted = await deleteInBatches(() => deps.telemetry.purge(eventCutoff, BATCH), deps.onDeleted);
    rowsDeleted += await deleteInBatches(() => deps.rollups.purge(rollupCutoff, membershipCutoff, BATCH), deps.onDeleted);
    rowsDeleted += await deleteInBatches(() => deps.profiles.purgeEmptyActivitySlots(BATCH), deps.onDeleted);
    // The device rows first: a token is forgotten only once nothing is left behind it.
    rowsDeleted += await deleteInBatches(() => deps.notifications.purgeExpiredDevices(new Date(now), BATCH), deps.onDeleted);
    const tokensForgotten = await deps.notifications.forgetExpiredTokens(new Date(now));
    if (partitionsCreated.length + partitionsDropped.length > 0) deps.logger.info({ partitionsCreated, partitionsDropped }, 'raw event partitions changed');
    return { partitionsCreated, partitionsDropped, rowsDeleted, tokensForgotten };
  };

  const loop = createBackgroundLoop({
    name: 'retention',
    intervalMs: settings.intervalMs,
    logger: deps.logger,
    registry: deps.registry,
    iterate: async () => void (await runOnce()),
  });
  return { runOnce, ...loop };
}
