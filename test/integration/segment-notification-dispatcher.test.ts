import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStores, createTransactor, type Stores, type Transactor } from '../../db/create-stores';
import { bucketOf } from '../../domain/bucketing';
import { armIndexOf, type ArmSpec } from '../../domain/experiment';
import type { NotificationPayload } from '../../domain/segment-notification';
import { WORKER_DEFAULTS, type SegmentNotificationsConfig } from '../../platform/config';
import type { Logger } from '../../platform/logger';
import { createSecretBox, newSecretsKey } from '../../platform/secret-box';
import { createSegmentNotificationDispatcher } from '../../worker/segment-notification-dispatcher';
import { waitFor } from '../../scripts/support/until';
import { AWAKE_ZONE, QUIET_ZONE, quietNow } from '../support/quiet-hours';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const APP = 'com.example.dispatch';
const RELEASE = 'rel-dispatch';
const SALT = 'salt-dispatch';
const { quietHours, endsAt: quietEndsAt } = quietNow();
const QUIET = QUIET_ZONE;
const AWAKE = AWAKE_ZONE;

interface Device {
  id: string;
  tier: string | null;
  timeZone: string | null;
  channel: string;
  lastSeenDaysAgo: number;
}

const pad = (i: number) => String(i).padStart(3, '0');
const devices: Device[] = [
  ...Array.from({ length: 60 }, (_, i): Device => ({ id: `pw-${pad(i)}`, tier: 'power', timeZone: [QUIET, AWAKE, null][i % 3]!, channel: 'production', lastSeenDaysAgo: 0 })),
  ...Array.from({ length: 180 }, (_, i): Device => ({ id: `df-${pad(i)}`, tier: null, timeZone: i % 2 ? QUIET : AWAKE, channel: 'production', lastSeenDaysAgo: 1 })),
  // Not the release's channel, and not seen within the audience's 30 days: never told.
  ...Array.from({ length: 10 }, (_, i): Device => ({ id: `bt-${pad(i)}`, tier: null, timeZone: AWAKE, channel: 'beta', lastSeenDaysAgo: 0 })),
  ...Array.from({ length: 5 }, (_, i): Device => ({ id: `old-${pad(i)}`, tier: null, timeZone: AWAKE, channel: 'production', lastSeenDaysAgo: 40 })),
];
/** Devices of the release's channel an audience page reads. */
const AUDIENCE = 240;

const newlyExposed = (segment: string, fromBps: number, toBps: number) =>
  devices
    .filter((d) => d.channel === 'production' && d.lastSeenDaysAgo < 30 && (d.tier ?? 'default') === segment)
    .filter((d) => bucketOf(SALT, d.id) >= fromBps && bucketOf(SALT, d.id) < toBps)
    .map((d) => d.id)
    .sort();

/** A pino logger whose lines the test reads. */
function capturedLogger(): { logger: Logger; lines: Array<{ level: number; msg: string; [key: string]: unknown }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

const counterValues = async (registry: Registry) =>
  Object.fromEntries(
    (await registry.getSingleMetric('rampart_segment_notifications_prepared_total')!.get()).values.map((v) => [String(v.labels.outcome), v.value]),
  );

describe(createSegmentNotificationDispatcher.name, () => {
  let db: TestDatabase;
  let stores: Stores;
  let transact: Transactor;

  beforeAll(async () => {
    db = await createTestDatabase();
    const box = createSecretBox(newSecretsKey());
    stores = createStores(db.pool, box);
    transact = createTransactor(db.pool, box);
    await db.pool.query(`INSERT INTO apps (id, name, default_time_zone) VALUES ($1, 'Dispatch', $2)`, [APP, AWAKE]);
    await db.pool.query(`INSERT INTO bundles (app_id, version, url, sha256, size, platforms) VALUES ($1, '2.0.0', 'https://x/2.zip', $2, 1, '{ios}')`, [APP, 'a'.repeat(64)]);
    await stores.segments.insert(APP, { key: 'power', rule: { attribute: 'attributes.tier', op: 'eq', value: 'power' }, priority: 10, maintenanceWindows: [] });
    await stores.webhooks.insert({ id: 'relay', appId: APP, url: 'https://relay.example/push', secret: 'whsec_x', events: ['segment_notification'] });
    for (const [id, channel] of [
      [RELEASE, 'production'],
      ['rel-failing', 'beta'],
    ] as const) {
      await db.pool.query(
        `INSERT INTO releases (id, app_id, channel, version, bucket_salt, plan, status, workflow_id, created_by)
         VALUES ($1, $2, $3, '2.0.0', $4, '{}', 'running', $1, 'test')`,
        [id, APP, channel, SALT],
      );
      await stores.segmentNotifications.insertSpecs(id, [
        { segment: 'default', message: { title: 'Hello' }, quietHours },
        { segment: 'power', message: { title: 'Power' }, quietHours },
      ]);
    }
    await db.pool.query(
      `INSERT INTO devices (app_id, device_id, platform, native_version, bundle_version, channel, attributes, first_seen, last_seen, time_zone)
       SELECT $1, d.id, 'ios', '3.0.0', 'builtin', d.channel, d.attributes, now() - interval '60 days', now() - make_interval(days => d.days), d.zone
         FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::int[], $6::text[]) AS d (id, channel, attributes, days, zone)`,
      [
        APP,
        devices.map((d) => d.id),
        devices.map((d) => d.channel),
        devices.map((d) => JSON.stringify(d.tier ? { tier: d.tier } : {})),
        devices.map((d) => d.lastSeenDaysAgo),
        devices.map((d) => d.timeZone),
      ],
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** A growth as the publish's trigger writes it. */
  const growth = async (releaseId: string, segment: string, stageIndex: number, fromBps: number, toBps: number, attempts = 0) =>
    Number(
      (
        await db.pool.query<{ id: string }>(
          `INSERT INTO segment_notifications (release_id, app_id, segment_key, stage_index, from_bps, to_bps, revision, attempts)
           VALUES ($1, $2, $3, $4, $5, $6, $4 + 1, $7) RETURNING id`,
          [releaseId, APP, segment, stageIndex, fromBps, toBps, attempts],
        )
      ).rows[0]!.id,
    );

  const dispatcher = (settings: Partial<SegmentNotificationsConfig>, overrides: { stores?: Stores; transact?: Transactor; logger?: Logger } = {}) => {
    const registry = new Registry();
    const d = createSegmentNotificationDispatcher({
      stores: overrides.stores ?? stores,
      transact: overrides.transact ?? transact,
      logger: overrides.logger ?? capturedLogger().logger,
      registry,
      settings: { ...WORKER_DEFAULTS.segmentNotifications, ...settings },
    });
    return Object.assign(d, { registry });
  };

  /** The outbox rows of one growth, as the relay would receive them. */
  const sent = async (segment: string, toBps: number) =>
    (
      await db.pool.query<{ idempotency_key: string; payload: NotificationPayload; next_attempt_at: Date }>(
        `SELECT o.idempotency_key, o.payload, o.next_attempt_at FROM webhook_outbox o
          WHERE o.payload->'release'->>'id' = $1 AND o.payload->>'segment' = $2 AND (o.payload->>'exposureBps')::int = $3 ORDER BY o.idempotency_key`,
        [RELEASE, segment, toBps],
      )
    ).rows;
  const idsOf = (rows: Awaited<ReturnType<typeof sent>>) => rows.flatMap((r) => ('ids' in r.payload.devices ? r.payload.devices.ids : [])).sort();

  it('pages through the audience: a bounded page at a time, each newly exposed device told once, by moment and page', async () => {
    const id = await growth(RELEASE, 'default', 0, 0, 6000);
    const pages: number[] = [];
    const counting: Stores = {
      ...stores,
      segmentNotifications: {
        ...stores.segmentNotifications,
        audience: async (...args) => {
          const page = await stores.segmentNotifications.audience(...args);
          pages.push(page.length);
          return page;
        },
      },
    };
    const d = dispatcher({ pageSize: 50 }, { stores: counting });
    expect(await d.runOnce()).toBe(1);

    // 240 devices of the channel, 50 a page: four full pages and the last.
    expect(pages).toEqual([50, 50, 50, 50, AUDIENCE - 200]);
    const rows = await sent('default', 6000);
    const told = idsOf(rows);
    expect(told).toEqual(newlyExposed('default', 0, 6000));
    expect(new Set(told).size).toBe(told.length);
    // Keys name the growth, the moment and the page; quiet devices wait for the end of quiet hours.
    for (const row of rows) {
      const [, release, segment, toBps, at, page] = row.idempotency_key.split(':');
      expect([release, segment, toBps]).toEqual([RELEASE, 'default', '6000']);
      expect(Number(page)).toBeLessThan(5);
      const quiet = Number(at) === quietEndsAt;
      expect(row.payload.devices.count).toBeGreaterThan(0);
      for (const deviceId of 'ids' in row.payload.devices ? row.payload.devices.ids : []) {
        expect(devices.find((x) => x.id === deviceId)!.timeZone === QUIET, deviceId).toBe(quiet);
      }
    }
    const [listed] = await stores.segmentNotifications.listForRelease(RELEASE);
    expect(listed).toMatchObject({ id, preparedAt: expect.any(String), failedAt: null, lastError: null });
    expect(listed!.deliveries.map((x) => x.id).sort()).toEqual(rows.map((r) => r.idempotency_key));
    expect(await counterValues(d.registry)).toEqual({ scheduled: 1 });
    expect(await d.runOnce()).toBe(0);
  });

  it('a worker that took over a growth whose lease ran out, and the one that had it, tell no device twice', async () => {
    await growth(RELEASE, 'default', 1, 6000, 10_000);
    // The first worker reads its first page, then stalls before writing it (a long GC pause, a slow network) past its lease.
    let stalled!: () => void;
    const stalledAt = new Promise<void>((resolve) => (stalled = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const stalling: Transactor = async (fn) => {
      stalled();
      await resumed;
      return transact(fn);
    };
    const first = dispatcher({ pageSize: 50, leaseMs: 0 }, { transact: stalling });
    const second = dispatcher({ pageSize: 50, leaseMs: 0 });
    const firstRun = first.runOnce();
    await stalledAt;
    expect(await second.runOnce()).toBe(1);
    resume();
    expect(await firstRun).toBe(1);

    const told = idsOf(await sent('default', 10_000));
    expect(told).toEqual(newlyExposed('default', 6000, 10_000));
    expect(new Set(told).size).toBe(told.length);
    expect(await counterValues(second.registry)).toEqual({ scheduled: 1 });
    expect(await counterValues(first.registry)).toEqual({ overtaken: 1 });
  });

  it('two workers racing on every page of one growth still tell each device once', async () => {
    const id = await growth(RELEASE, 'power', 0, 0, 10_000);
    // Leases that run out at once and loops that poll every millisecond: each claims the growth while the other prepares it.
    // Every claim counts as an attempt, so the limit is out of the way here.
    const racing = { pageSize: 7, leaseMs: 0, pollMs: 1, maxAttempts: 1_000_000 };
    const racers = [dispatcher(racing), dispatcher(racing)];
    await Promise.all(racers.map((r) => r.start()));
    try {
      await waitFor('the growth to be prepared', async () => (await stores.segmentNotifications.listForRelease(RELEASE)).find((n) => n.id === id)!.preparedAt, (at) => at !== null);
    } finally {
      await Promise.all(racers.map((r) => r.stop()));
    }

    const told = idsOf(await sent('power', 10_000));
    expect(told).toEqual(newlyExposed('power', 0, 10_000));
    expect(new Set(told).size).toBe(told.length);
  });

  it("an experiment's growth: each treatment arm's devices by arm with its bundle if they can run it; baseline and stopped arms untold and counted; none once withdrawn", async () => {
    const EXP = 'rel-exp';
    const ARM_SALT = 'arm-salt-dispatch';
    await db.pool.query(
      `INSERT INTO bundles (app_id, version, url, sha256, size, platforms) VALUES ($1, '1.0.0', 'https://x/1.zip', $2, 1, '{ios,android}'), ($1, '2.1.0', 'https://x/21.zip', $2, 1, '{android}')`,
      [APP, 'a'.repeat(64)],
    );
    await db.pool.query(
      `INSERT INTO releases (id, app_id, channel, version, baseline_version, bucket_salt, plan, status, workflow_id, created_by)
       VALUES ($1, $2, 'lab', '2.0.0', '1.0.0', $3, '{}', 'running', $1, 'test')`,
      [EXP, APP, SALT],
    );
    await stores.segmentNotifications.insertSpecs(EXP, [{ segment: 'default', message: { title: 'Try it' }, quietHours: null }]);
    // a keeps the baseline (no bundle), d names the baseline's version; c's bundle runs on android only (2.0.0 on iOS only); e is stopped.
    const arms: ArmSpec[] = [
      { key: 'a', version: null, weight: 1, installMode: 'next_launch' },
      { key: 'b', version: '2.0.0', weight: 1, installMode: 'next_launch' },
      { key: 'c', version: '2.1.0', weight: 1, installMode: 'next_launch' },
      { key: 'd', version: '1.0.0', weight: 1, installMode: 'next_launch' },
      { key: 'e', version: '2.1.0', weight: 1, installMode: 'immediate' },
    ];
    await stores.experiments.insert({
      releaseId: EXP,
      appId: APP,
      armSalt: ARM_SALT,
      definition: {
        arms,
        control: 'a',
        primary: { metric: 'session_duration', direction: 'higher' },
        guardrails: [],
        timeLimitMs: 86_400_000,
        alpha: 0.05,
        minSamplePerArm: 100,
      },
    });
    await stores.experiments.publish({ releaseId: EXP, revision: 1, stoppedArms: ['e'], promotedArm: null });
    const lab = Array.from({ length: 200 }, (_, i) => ({ id: `lab-${pad(i)}`, platform: i % 2 ? 'ios' : 'android' }));
    await db.pool.query(
      `INSERT INTO devices (app_id, device_id, platform, native_version, bundle_version, channel, attributes, first_seen, last_seen, time_zone)
       SELECT $1, d.id, d.platform, '3.0.0', '1.0.0', 'lab', '{}', now() - interval '60 days', now(), NULL FROM unnest($2::text[], $3::text[]) AS d (id, platform)`,
      [APP, lab.map((d) => d.id), lab.map((d) => d.platform)],
    );
    const armOf = (deviceId: string) => arms[armIndexOf(ARM_SALT, deviceId, [1, 1, 1, 1, 1])!]!.key;
    const inSlice = (fromBps: number, toBps: number) => lab.filter((d) => bucketOf(SALT, d.id) >= fromBps && bucketOf(SALT, d.id) < toBps);
    const outbox = async (toBps: number) =>
      (
        await db.pool.query<{ idempotency_key: string; payload: NotificationPayload }>(
          `SELECT o.idempotency_key, o.payload FROM webhook_outbox o WHERE o.payload->'release'->>'id' = $1 AND (o.payload->>'exposureBps')::int = $2 ORDER BY o.idempotency_key`,
          [EXP, toBps],
        )
      ).rows;
    const untold = async (registry: Registry) =>
      Object.fromEntries((await registry.getSingleMetric('rampart_segment_notification_devices_untold_total')!.get()).values.map((v) => [String(v.labels.reason), v.value]));

    await growth(EXP, 'default', 0, 0, 5000);
    const running = dispatcher({});
    expect(await running.runOnce()).toBe(1);
    const rows = await outbox(5000);
    expect(rows.map((r) => [r.idempotency_key.split(':').at(-1), r.payload.arm, r.payload.bundleVersion])).toEqual([
      ['b', 'b', '2.0.0'],
      ['c', 'c', '2.1.0'],
    ]);
    const slice = inSlice(0, 5000);
    const expected = { b: slice.filter((d) => armOf(d.id) === 'b' && d.platform === 'ios'), c: slice.filter((d) => armOf(d.id) === 'c' && d.platform === 'android') };
    for (const row of rows) expect('ids' in row.payload.devices && [...row.payload.devices.ids].sort()).toEqual(expected[row.payload.arm as 'b' | 'c'].map((d) => d.id));
    const count = (keys: string[]) => slice.filter((d) => keys.includes(armOf(d.id))).length;
    expect(await untold(running.registry)).toEqual({ baseline_arm: count(['a', 'd']), stopped_arm: count(['e']) });
    const [listed] = await stores.segmentNotifications.listForRelease(EXP);
    expect(listed!.deliveries.map((d) => [d.arm, d.bundleVersion, d.deviceCount])).toEqual([
      ['b', '2.0.0', expected.b.length],
      ['c', '2.1.0', expected.c.length],
    ]);

    // Withdrawn before its next growth is prepared: every arm's devices are back on the baseline.
    await db.pool.query(`UPDATE releases SET status = 'aborted' WHERE id = $1`, [EXP]);
    await growth(EXP, 'default', 1, 5000, 10_000);
    const withdrawn = dispatcher({});
    expect(await withdrawn.runOnce()).toBe(1);
    expect(await outbox(10_000)).toEqual([]);
    expect(await counterValues(withdrawn.registry)).toEqual({ empty: 1 });
    expect(await untold(withdrawn.registry)).toEqual({ stopped_arm: inSlice(5000, 10_000).length });
  });

  it('gives a growth that keeps failing up after its attempts, backing off between them: listed, counted and logged', async () => {
    const failing = await growth('rel-failing', 'default', 0, 0, 10_000);
    const broken: Stores = { ...stores, segments: { ...stores.segments, list: () => Promise.reject(new Error('segments unavailable')) } };
    const { logger, lines } = capturedLogger();
    const d = dispatcher({ maxAttempts: 3 }, { stores: broken, logger });
    const row = async () =>
      (await db.pool.query<{ attempts: number; due_in_ms: number }>(`SELECT attempts, (extract(epoch FROM next_attempt_at - now()) * 1000)::float8 AS due_in_ms FROM segment_notifications WHERE id = $1`, [failing]))
        .rows[0]!;
    const backoffPassed = () => db.pool.query('UPDATE segment_notifications SET next_attempt_at = now() WHERE id = $1', [failing]);

    for (const attempt of [1, 2]) {
      expect(await d.runOnce()).toBe(1);
      // Backing off: 2 s after the first failure, 4 s after the second; not claimed meanwhile.
      const after = await row();
      expect(after.attempts).toBe(attempt);
      expect(after.due_in_ms).toBeGreaterThan(attempt * 2000 - 1000);
      expect(await d.runOnce()).toBe(0);
      await backoffPassed();
    }
    expect(await d.runOnce()).toBe(1);
    await backoffPassed();
    expect(await d.runOnce()).toBe(0);

    const listed = (await stores.segmentNotifications.listForRelease('rel-failing')).find((n) => n.id === failing)!;
    expect(listed).toMatchObject({ preparedAt: null, failedAt: expect.any(String), attempts: 3, deliveries: [] });
    expect(listed.lastError).toMatch(/failed 3 times.*segments unavailable/);
    expect(await counterValues(d.registry)).toEqual({ failed: 2, gave_up: 1 });
    const errors = lines.filter((l) => l.level === 50);
    expect(errors.map((l) => l.msg)).toEqual([
      'preparing a segment notification failed; retrying',
      'preparing a segment notification failed; retrying',
      expect.stringMatching(/^segment notification for default given up: preparing failed 3 times/),
    ]);
    expect(errors[2]).toMatchObject({ releaseId: 'rel-failing', segment: 'default', attempts: 3 });
    expect(await stores.segmentNotifications.countUnprepared()).toBe(0);

    // Attempts that never finished (each worker died while preparing) are given up too, once claimed past the limit.
    const abandoned = await growth('rel-failing', 'power', 0, 0, 10_000, 3);
    const healthy = dispatcher({ maxAttempts: 3 });
    expect(await healthy.runOnce()).toBe(1);
    const gone = (await stores.segmentNotifications.listForRelease('rel-failing')).find((n) => n.id === abandoned)!;
    expect(gone).toMatchObject({ preparedAt: null, failedAt: expect.any(String), attempts: 4 });
    expect(gone.lastError).toMatch(/3 attempts to prepare it never finished/);
    expect(await counterValues(healthy.registry)).toEqual({ gave_up: 1 });
  });
});
