import { isDataException } from '../../db/pg-errors';
import type { DeviceProfileStore, DeviceSighting, ServedDevice, SessionCount } from '../../db/stores/device-profile-store';
import { daysSince } from '../../domain/time';
import type { DeviceProfilesConfig } from '../../platform/config';
import { writeIsolatingRefused } from '../../platform/isolate-refused';
import type { Logger } from '../../platform/logger';
import type { ApiMetrics } from '../api-metrics';
import { createDeviceTable } from './device-table';
import { createStringCodes } from './string-codes';


export interface DeviceEngagement {
  sessionsLast7d: number;
  daysSinceFirstSeen: number;
}

export interface DeviceProfiles {
  /**
   * Engagement for segment rules, from memory only: null until the device's profile has been loaded
   * (a background load is queued), so the update check never waits on PostgreSQL.
   */
  engagement(appId: string, deviceId: string, now: number): DeviceEngagement | null;
  /**
   * Remembers that the device was seen at `at`; written to PostgreSQL in the next batch. `device` is
   * read, not kept: a check makes one per request and most change nothing, and an argument that was
   * sometimes kept would have V8 allocate every check's in the old generation (allocation-site
   * pretenuring), where each one waits for a mark-compact.
   */
  sighted(device: SightedDevice, at: number): void;
  sessionsStarted(appId: string, deviceId: string, day: string, count: number): void;
  /** Remembers that a check served the device in a release's slices (the trust model); written in the next batch. */
  served(appId: string, releaseId: string, deviceId: string, at: number): void;
  start(): void;
  /** Writes everything still buffered. */
  stop(): Promise<void>;
}

/** What a request says of its device, as a sighting records it. */
export type SightedDevice = Omit<DeviceSighting, 'seenAt'>;

export interface DeviceProfilesOptions extends DeviceProfilesConfig {
  store: DeviceProfileStore;
  logger: Logger;
  metrics: ApiMetrics;
}

// What this instance remembers of each device, one row of a device table (nothing per device on the
// JS heap): the last sighting written (its values as string codes, and when), the engagement loaded,
// and the release it last recorded as serving the device (only its first serving matters).
/** When the last sighting was written; NaN: none written yet. */
const WRITTEN_AT = 0;
/** When engagement was last loaded; NaN: never. */
const LOADED_AT = 1;
const FIRST_SEEN = 2;
const NUMBERS = 3;
const PLATFORM = 0;
const NATIVE_VERSION = 1;
const BUNDLE_VERSION = 2;
const CHANNEL = 3;
/** The release last recorded as serving the device; 0: none. */
const SERVED_RELEASE = 4;
/** Sessions in the last 7 days; NO_PROFILE: the device had none when loaded (a new device). */
const SESSIONS = 5;
const INTEGERS = 6;
const NO_PROFILE = -1;

const mergeSightings = (older: DeviceSighting, newer: DeviceSighting): DeviceSighting => ({
  ...newer,
  platform: newer.platform ?? older.platform,
  nativeVersion: newer.nativeVersion ?? older.nativeVersion,
  bundleVersion: newer.bundleVersion ?? older.bundleVersion,
  channel: newer.channel ?? older.channel,
  attributes: newer.attributes ?? older.attributes,
  timeZone: newer.timeZone ?? older.timeZone ?? null,
});
const sessionKey = (appId: string, deviceId: string, day: string) => `${appId}\u0000${deviceId}\u0000${day}`;
const sightingKey = (appId: string, deviceId: string) => `${appId}\u0000${deviceId}`;

/**
 * Rows (written) or device ids (loaded) per statement. Building one statement's parameters and reading
 * its rows is synchronous work on the event loop (after a fleet fill the buffers held 50,000 rows each:
 * one write took ~1 s of serialising and the GC it caused, and checks waited); in slices of this size
 * no check waits for more than a few ms.
 */
export const PROFILE_STATEMENT_ROWS = 1000;

interface ChunkedWrite<T> {
  /** Rows PostgreSQL refused (isolated, dropped and counted). */
  refused: T[];
  /** Rows not written because the database failed; set only with `error`. */
  unwritten: T[];
  error?: unknown;
}

/** Writes rows PROFILE_STATEMENT_ROWS at a time, one statement after the other; stops at the first failure that is not a refused row. */
async function writeInChunks<T>(rows: T[], write: (rows: T[]) => Promise<void>): Promise<ChunkedWrite<T>> {
  const refused: T[] = [];
  for (let i = 0; i < rows.length; i += PROFILE_STATEMENT_ROWS) {
    try {
      refused.push(...(await writeIsolatingRefused(rows.slice(i, i + PROFILE_STATEMENT_ROWS), write, isDataException)));
    } catch (error) {
      return { refused, unwritten: rows.slice(i), error };
    }
  }
  return { refused, unwritten: [] };
}

/**
 * Device profiles kept behind the hot path: sightings and session counts are buffered and written
 * in batches, engagement is read from a bounded in-memory cache filled by batched background loads.
 */
export function createDeviceProfiles(options: DeviceProfilesOptions): DeviceProfiles {
  const { store, logger, metrics, flushIntervalMs, cacheTtlMs, sightingIntervalMs, maxBuffered, maxRememberedStrings } = options;

  let sightings = new Map<string, DeviceSighting>();
  let sessions = new Map<string, SessionCount>();
  let served = new Map<string, ServedDevice>();
  const devices = createDeviceTable(options.maxCachedDevices, { numbers: NUMBERS, integers: INTEGERS });
  // Versions come from devices and may be anything; platforms, channels and releases are the service's own.
  const versionCodes = createStringCodes(maxRememberedStrings);
  const ownCodes = createStringCodes(maxRememberedStrings);
  const rowOf = (appId: string, deviceId: string) => {
    let row = devices.find(appId, deviceId);
    if (row < 0) {
      row = devices.add(appId, deviceId);
      devices.set(row, WRITTEN_AT, Number.NaN);
      devices.set(row, LOADED_AT, Number.NaN);
    }
    return row;
  };
  // Device ids come from requests: the queue is bounded like the write buffers.
  const toLoad = new Map<string, Set<string>>();
  let queuedLoads = 0;
  let timer: NodeJS.Timeout | null = null;
  // Loads and writes run apart: a backlog of loads (a fleet fill queues one per new device) must not hold the writes back.
  let loading: Promise<void> | null = null;
  let writing: Promise<void> | null = null;

  const loadQueued = async () => {
    const batches = [...toLoad.entries()];
    toLoad.clear();
    queuedLoads = 0;
    for (const [appId, ids] of batches) {
      const deviceIds = [...ids];
      for (let i = 0; i < deviceIds.length; i += PROFILE_STATEMENT_ROWS) {
        const chunk = deviceIds.slice(i, i + PROFILE_STATEMENT_ROWS);
        try {
          const found = await store.engagement(appId, chunk, new Date());
          const loadedAt = Date.now();
          for (const id of chunk) {
            const row = rowOf(appId, id);
            const engagement = found.get(id);
            devices.set(row, LOADED_AT, loadedAt);
            devices.setInt(row, SESSIONS, engagement?.sessionsLast7d ?? NO_PROFILE);
            devices.set(row, FIRST_SEEN, engagement?.firstSeen.getTime() ?? 0);
          }
          metrics.profileLoads.inc({ outcome: 'ok' }, chunk.length);
        } catch (err) {
          metrics.profileLoads.inc({ outcome: 'error' }, chunk.length);
          logger.error({ err, appId }, 'loading device engagement failed');
        } finally {
          metrics.profileLoadsPending.dec(chunk.length);
        }
      }
    }
  };

  const writeServed = async () => {
    if (served.size === 0) return;
    const batch = [...served.values()];
    served = new Map();
    const { unwritten, error } = await writeInChunks(batch, (rows) => store.recordServed(rows));
    metrics.servedWrites.inc({ outcome: 'ok' }, batch.length - unwritten.length);
    if (error === undefined) return;
    metrics.servedWrites.inc({ outcome: 'error' }, unwritten.length);
    logger.error({ err: error, devices: unwritten.length }, 'recording served devices failed; keeping them for the next batch');
    keepUnwritten(served, unwritten, (s) => sightingKey(s.releaseId, s.deviceId));
  };

  // Rows a failed write did not write go back to the buffers; rows already written do not (session counts add up).
  const keepUnwritten = <T>(buffer: Map<string, T>, rows: T[], keyOf: (row: T) => string) => {
    for (const row of rows) {
      const k = keyOf(row);
      if (!buffer.has(k) && buffer.size < maxBuffered) buffer.set(k, row);
    }
  };
  const keepSessions = (rows: SessionCount[]) => {
    for (const s of rows) {
      const k = sessionKey(s.appId, s.deviceId, s.day);
      const now = sessions.get(k);
      if (now) now.sessions += s.sessions;
      else if (sessions.size < maxBuffered) sessions.set(k, s);
    }
  };

  const writeBuffered = async () => {
    await writeServed();
    if (sightings.size === 0 && sessions.size === 0) return;
    const batch = { sightings: [...sightings.values()], sessions: [...sessions.values()] };
    sightings = new Map();
    sessions = new Map();
    // A row PostgreSQL refuses would otherwise be put back and fail every later batch with it.
    const wroteSightings = await writeInChunks(batch.sightings, (rows) => store.upsertSightings(rows));
    const wroteSessions: ChunkedWrite<SessionCount> =
      wroteSightings.error === undefined
        ? await writeInChunks(batch.sessions, (rows) => store.addSessions(rows))
        : { refused: [], unwritten: batch.sessions, error: wroteSightings.error };
    metrics.profileWrites.inc({ outcome: 'ok' }, batch.sightings.length - wroteSightings.refused.length - wroteSightings.unwritten.length);
    if (wroteSightings.refused.length + wroteSessions.refused.length > 0) reportRefused(wroteSightings.refused, wroteSessions.refused);
    const error = wroteSightings.error ?? wroteSessions.error;
    if (error === undefined) return;
    metrics.profileWrites.inc({ outcome: 'error' }, wroteSightings.unwritten.length);
    logger.error({ err: error, devices: wroteSightings.unwritten.length }, 'writing device profiles failed; keeping them for the next batch');
    keepUnwritten(sightings, wroteSightings.unwritten, (s) => sightingKey(s.appId, s.deviceId));
    keepSessions(wroteSessions.unwritten);
  };

  const reportRefused = (refusedSightings: DeviceSighting[], refusedSessions: SessionCount[]) => {
    metrics.profileWrites.inc({ outcome: 'refused' }, refusedSightings.length + refusedSessions.length);
    const devices = [...refusedSightings, ...refusedSessions].slice(0, 5).map((r) => ({ appId: r.appId, deviceId: r.deviceId }));
    logger.warn({ sightings: refusedSightings.length, sessions: refusedSessions.length, devices }, 'PostgreSQL refused device profile rows; dropped them, wrote the rest');
  };

  const tick = () => {
    loading ??= loadQueued().finally(() => (loading = null));
    writing ??= writeBuffered().finally(() => (writing = null));
  };

  return {
    engagement(appId, deviceId, now) {
      const row = devices.find(appId, deviceId);
      const loadedAt = row < 0 ? Number.NaN : devices.get(row, LOADED_AT);
      const loaded = !Number.isNaN(loadedAt);
      if (!loaded || now - loadedAt > cacheTtlMs) {
        let ids = toLoad.get(appId);
        if (!ids?.has(deviceId)) {
          if (queuedLoads >= maxBuffered) metrics.profileLoads.inc({ outcome: 'dropped' });
          else {
            if (!ids) toLoad.set(appId, (ids = new Set()));
            ids.add(deviceId);
            queuedLoads += 1;
            metrics.profileLoadsPending.inc();
          }
        }
        metrics.profileCache.inc(loaded ? 'stale' : 'miss');
        if (!loaded) return null;
      } else {
        metrics.profileCache.inc('hit');
      }
      const sessions = devices.getInt(row, SESSIONS);
      if (sessions === NO_PROFILE) return { sessionsLast7d: 0, daysSinceFirstSeen: 0 };
      return { sessionsLast7d: sessions, daysSinceFirstSeen: daysSince(devices.get(row, FIRST_SEEN), now) };
    },
    sighted(device, at) {
      const row = rowOf(device.appId, device.deviceId);
      // Attributes are not compared: rules read them from each request, and the stored copy catches up with the next write.
      const platform = ownCodes.code(device.platform);
      const nativeVersion = versionCodes.code(device.nativeVersion);
      const bundleVersion = versionCodes.code(device.bundleVersion);
      const channel = ownCodes.code(device.channel);
      const unchanged =
        devices.getInt(row, PLATFORM) === platform &&
        devices.getInt(row, NATIVE_VERSION) === nativeVersion &&
        devices.getInt(row, BUNDLE_VERSION) === bundleVersion &&
        devices.getInt(row, CHANNEL) === channel;
      // A row never written has WRITTEN_AT NaN, so it is written whatever it compares equal to.
      if (unchanged && at - devices.get(row, WRITTEN_AT) < sightingIntervalMs) return;
      devices.setInt(row, PLATFORM, platform);
      devices.setInt(row, NATIVE_VERSION, nativeVersion);
      devices.setInt(row, BUNDLE_VERSION, bundleVersion);
      devices.setInt(row, CHANNEL, channel);
      devices.set(row, WRITTEN_AT, at);
      const k = sightingKey(device.appId, device.deviceId);
      if (sightings.size >= maxBuffered && !sightings.has(k)) {
        metrics.profileWrites.inc({ outcome: 'dropped' });
        return;
      }
      const sighting: DeviceSighting = {
        appId: device.appId,
        deviceId: device.deviceId,
        platform: device.platform,
        nativeVersion: device.nativeVersion,
        bundleVersion: device.bundleVersion,
        channel: device.channel,
        attributes: device.attributes,
        timeZone: device.timeZone ?? null,
        seenAt: new Date(at),
      };
      const buffered = sightings.get(k);
      // The database keeps known fields a report leaves out (COALESCE); the buffer must not drop them first.
      sightings.set(k, buffered ? mergeSightings(buffered, sighting) : sighting);
    },
    sessionsStarted(appId, deviceId, day, count) {
      const k = sessionKey(appId, deviceId, day);
      const existing = sessions.get(k);
      if (existing) existing.sessions += count;
      else if (sessions.size < maxBuffered) sessions.set(k, { appId, deviceId, day, sessions: count });
    },
    served(appId, releaseId, deviceId, at) {
      const row = rowOf(appId, deviceId);
      const release = ownCodes.code(releaseId);
      if (devices.getInt(row, SERVED_RELEASE) === release) return;
      const k = sightingKey(releaseId, deviceId);
      if (served.size >= maxBuffered && !served.has(k)) {
        metrics.servedWrites.inc({ outcome: 'dropped' });
        return;
      }
      devices.setInt(row, SERVED_RELEASE, release);
      if (!served.has(k)) served.set(k, { releaseId, deviceId, servedAt: new Date(at) });
    },
    start() {
      timer = setInterval(tick, flushIntervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await Promise.all([loading, writing]);
      await writeBuffered();
    },
  };
}
