import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durationBin, foldRollups } from '../../domain/insight';
import { NOTIFICATION_LIMITS } from '../../domain/segment-notification';
import { createDeviceProfileStore } from '../../db/stores/device-profile-store';
import { createRollupStore } from '../../db/stores/rollup-store';
import { createSegmentNotificationStore } from '../../db/stores/segment-notification-store';
import { createTelemetryStore } from '../../db/stores/telemetry-store';
import { newSecret, tokenHash } from '../../platform/ids';
import { createLogger } from '../../platform/logger';
import { createRetentionJob } from '../../worker/retention-job';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const DAY = 24 * 3600 * 1000;
const APP = 'com.example.retention';
const partitionOf = (at: number) => `device_reports_p${new Date(at).toISOString().slice(0, 10).replace(/-/g, '')}`;

describe(createRetentionJob.name, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(`INSERT INTO apps (id, name) VALUES ($1, 'r')`, [APP]);
    await db.pool.query(`INSERT INTO bundles (app_id, version, url, sha256, size, platforms) VALUES ($1, '1.0.0', 'https://x/1.zip', $2, 1, '{ios}')`, [APP, 'a'.repeat(64)]);
  });
  afterAll(async () => {
    await db?.drop();
  });

  const retentionJob = () =>
    createRetentionJob({
      telemetry: createTelemetryStore(db.pool),
      rollups: createRollupStore(db.pool),
      profiles: createDeviceProfileStore(db.pool),
      notifications: createSegmentNotificationStore(db.pool),
      logger: createLogger('test', 'silent'),
      registry: new Registry(),
      settings: { eventRetentionDays: 30, rollupRetentionDays: 400, partitionsAhead: 2, intervalMs: 3600_000 },
    });

  const partitions = async () =>
    (await db.pool.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'device_reports'::regclass ORDER BY 1`)).rows.map((r) => r.name);
  const count = async (table: string) => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
  const event = (receivedAt: Date) => ({
    appId: APP,
    deviceId: 'd',
    releaseId: null,
    segment: 'default',
    cohort: 'none' as const,
    type: 'crash',
    bundleVersion: '1.0.0',
    occurredAt: receivedAt,
    receivedAt,
    details: null,
  });
  const rollupsAt = (atMs: number) =>
    foldRollups([{ appId: APP, releaseId: 'r1', segment: 'default', cohort: 'rest', deviceId: 'd', type: 'session_end', onRelease: true, occurredAtMs: atMs, details: { durationMs: 5000 } }]);

  it('writes into a day that has no partition yet by creating it', async () => {
    const later = Date.now() + 20 * DAY;
    expect(await partitions()).not.toContain(partitionOf(later));
    const occurredAt = new Date(later - 1234);
    await createTelemetryStore(db.pool).write([{ ...event(new Date(later)), occurredAt, details: { message: 'a "quoted" \\ note' } }], [], rollupsAt(later));
    expect(await partitions()).toContain(partitionOf(later));
    // Instants to the millisecond and details as sent.
    const { rows } = await db.pool.query<{ occurred_at: Date; received_at: Date; details: unknown }>(
      `SELECT r.occurred_at[1] AS occurred_at, r.received_at, r.details[1] AS details FROM ${partitionOf(later)} r`,
    );
    expect(rows).toEqual([{ occurred_at: occurredAt, received_at: new Date(later), details: { message: 'a "quoted" \\ note' } }]);
    await db.pool.query(`DROP TABLE ${partitionOf(later)}`);
    await db.pool.query('TRUNCATE rollup_buckets, rollup_bucket_devices');
  });

  it('drops whole partitions past the event retention, deletes finished device-windows and old rollups, creates partitions ahead', async () => {
    // A few days ahead, so the partitions the pass should create do not exist yet.
    const now = Date.now() + 5 * DAY;
    const old = new Date(now - 40 * DAY);
    const recent = new Date(now - 2 * DAY);
    const telemetry = createTelemetryStore(db.pool);
    for (const [id, status, updated] of [
      ['done-long-ago', 'completed', old],
      ['done-recently', 'rolled_back', recent],
      ['still-running', 'running', old],
    ] as const) {
      await db.pool.query(
        `INSERT INTO releases (id, app_id, channel, version, bucket_salt, plan, status, workflow_id, created_by, updated_at)
         VALUES ($1, $4, $1, '1.0.0', $1, '{}', $2, $1, 'test', $3)`,
        [id, status, updated, APP],
      );
      await db.pool.query(
        `INSERT INTO release_device_windows (release_id, window_start, device_id, on_cohort_bundle, segment, slice) VALUES ($1, $2, 'd', true, 'default', 'canary')`,
        [id, old],
      );
    }
    await telemetry.write([event(old), event(old), event(recent)], [], rollupsAt(old.getTime()));
    await telemetry.write([], [], rollupsAt(recent.getTime()));
    await telemetry.write([], [], rollupsAt(now - 401 * DAY));
    // Per write: one bucket row per step (5 min, 1 h), its histograms on it; one membership (active, on release) per step.
    expect(await count('rollup_buckets')).toBe(6);
    expect(await count('rollup_bucket_devices')).toBe(6);

    const job = retentionJob();
    const pass = await job.runOnce(now);
    expect(pass.partitionsCreated).toEqual([partitionOf(now), partitionOf(now + DAY)]);
    expect(pass.partitionsDropped).toEqual([partitionOf(old.getTime())]);
    expect(await partitions()).not.toContain(partitionOf(old.getTime()));
    expect(await partitions()).toContain(partitionOf(recent.getTime()));
    expect(await count('device_events')).toBe(1);
    const windows = await db.pool.query<{ release_id: string }>('SELECT w.release_id FROM release_device_windows w ORDER BY w.release_id');
    expect(windows.rows.map((r) => r.release_id)).toEqual(['done-recently', 'still-running']);
    // Rollups outlive raw events (400 days); which devices a bucket counted is kept while devices may still report into it.
    const buckets = await db.pool.query<{ at: Date }>('SELECT DISTINCT b.bucket_start AS at FROM rollup_buckets b WHERE b.bucket_ms = 3600000 ORDER BY 1');
    expect(buckets.rows.map((r) => r.at.getTime())).toEqual([Math.floor(old.getTime() / 3600_000) * 3600_000, Math.floor(recent.getTime() / 3600_000) * 3600_000]);
    // One session of 5 s: a count of 1 in its bin, zeros before it.
    const sessionEnd = Array.from({ length: durationBin(5000) + 1 }, (_, bin) => (bin === durationBin(5000) ? 1 : 0));
    const histograms = await db.pool.query<{ session_durations: number[] }>('SELECT b.session_durations FROM rollup_buckets b WHERE b.bucket_ms = 3600000');
    expect(histograms.rows.map((r) => r.session_durations)).toEqual([sessionEnd, sessionEnd]);
    expect(await count('rollup_bucket_devices')).toBe(2);
    // 1 finished device-window, 2 rollup buckets, 4 memberships.
    expect(pass.rowsDeleted).toBe(7);

    expect(await job.runOnce(now)).toEqual({ partitionsCreated: [], partitionsDropped: [], rowsDeleted: 0, tokensForgotten: 0 });
  });

  it('sweeps device activity counters a device left at zero, and keeps those that count', async () => {
    const profiles = createDeviceProfileStore(db.pool);
    const sighting = (deviceId: string, seenAt: Date) => ({ appId: APP, deviceId, platform: 'ios', nativeVersion: '3.0.0', bundleVersion: '1.0.0', channel: 'production', attributes: null, seenAt });
    const now = Date.now();
    await profiles.upsertSightings([sighting('a', new Date(now - 3600_000)), sighting('b', new Date(now - 3600_000))]);
    // Seen again an hour later: `a` leaves its first slot, which still counts `b`; `b` then leaves it at zero.
    await profiles.upsertSightings([sighting('a', new Date(now))]);
    await profiles.upsertSightings([sighting('b', new Date(now))]);
    const slots = async () =>
      (await db.pool.query<{ devices: number }>('SELECT s.devices FROM device_activity_slots s WHERE s.app_id = $1 ORDER BY s.slot', [APP])).rows.map((r) => r.devices);
    expect(await slots()).toEqual([0, 2]);

    const job = retentionJob();
    expect((await job.runOnce(now)).rowsDeleted).toBe(1);
    expect(await slots()).toEqual([2]);
    expect(await profiles.countActive(APP, 'production', new Date(now - 2 * 3600_000))).toBe(2);
    expect(await profiles.countActive(APP, 'production', new Date(now - 60_000))).toBe(2);
    expect(await profiles.countActive(APP, 'beta', new Date(now - 2 * 3600_000))).toBe(0);
  });

  it('forgets notification tokens that expired and the device lists behind them, and keeps the others', async () => {
    const notifications = createSegmentNotificationStore(db.pool);
    const now = Date.now();
    await db.pool.query(
      `INSERT INTO releases (id, app_id, channel, version, bucket_salt, plan, status, workflow_id, created_by)
       VALUES ('notified', $1, 'production', '1.0.0', 's', '{}', 'running', 'notified', 'test')`,
      [APP],
    );
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO segment_notifications (release_id, app_id, segment_key, stage_index, from_bps, to_bps, revision)
       VALUES ('notified', $1, 'default', 0, 0, 10000, 1) RETURNING id`,
      [APP],
    );
    const notificationId = Number(rows[0]!.id);
    const tokens = { expired: newSecret('snt_'), live: newSecret('snt_') };
    // Scheduled eight days ago (its token lived seven), now, and one small enough for its payload.
    const delivery = (id: string, scheduledFor: number, deviceIds: string[], token: string | null) => ({
      id,
      scheduledFor,
      bundleVersion: '1.0.0',
      arm: null,
      deviceIds,
      tokenHash: token === null ? null : tokenHash(token),
      tokenExpiresAt: token === null ? null : scheduledFor + NOTIFICATION_LIMITS.tokenTtlMs,
    });
    await notifications.recordPage(notificationId, 'notified', { index: 0, lastDeviceId: 'e', last: true, leaseMs: 0 }, [
      delivery('old', now - 8 * DAY, ['a', 'b', 'c'], tokens.expired),
      delivery('new', now, ['d', 'e'], tokens.live),
      delivery('inline', now, ['f'], null),
    ]);
    expect(await count('segment_notification_devices')).toBe(5);

    expect(await retentionJob().runOnce(now)).toMatchObject({ rowsDeleted: 3, tokensForgotten: 1 });
    const left = await db.pool.query<{ delivery_id: string; device_id: string }>('SELECT x.delivery_id, x.device_id FROM segment_notification_devices x ORDER BY 1, 2');
    expect(left.rows).toEqual([
      { delivery_id: 'new', device_id: 'd' },
      { delivery_id: 'new', device_id: 'e' },
    ]);
    const hashes = await db.pool.query<{ id: string; token_hash: string | null }>('SELECT d.id, d.token_hash FROM segment_notification_deliveries d ORDER BY d.id');
    expect(hashes.rows).toEqual([
      { id: 'inline', token_hash: null },
      { id: 'new', token_hash: tokenHash(tokens.live) },
      { id: 'old', token_hash: null },
    ]);
    expect((await notifications.devicesPage(tokenHash(tokens.live), null, 10))?.deviceIds).toEqual(['d', 'e']);
    // The record of what was sent stays: how many devices, and that they travelled behind a token.
    const [listed] = await notifications.listForRelease('notified');
    expect(listed!.deliveries.map((d) => [d.id, d.deviceCount, d.devicesBy])).toEqual([
      ['old', 3, 'token'],
      ['inline', 1, 'payload'],
      ['new', 2, 'token'],
    ]);

    expect(await retentionJob().runOnce(now)).toMatchObject({ rowsDeleted: 0, tokensForgotten: 0 });
  });
});
