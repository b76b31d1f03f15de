import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf } from '../../domain/bucketing';
import { armIndexOf } from '../../domain/experiment';
import { waitFor } from '../../scripts/support/until';
import { bucketSaltOf, bundleBody, startRelease } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { AWAKE_ZONE, QUIET_ZONE, quietNow } from '../support/quiet-hours';
import { useTestStack } from '../support/test-stack';

interface Received {
  body: string;
  signature: string;
  payload: {
    id: string;
    event: string;
    release: { id: string };
    segment: string;
    stageIndex: number;
    exposureBps: number;
    bundleVersion: string;
    arm?: string;
    message: Record<string, unknown>;
    devices: { count: number; ids?: string[]; token?: string; url?: string };
  };
}

/** A push relay: a real HTTP receiver that keeps every delivery with its signature; it refuses the very first one (503). */
function startRelay(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  let refusedOnce = false;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (!refusedOnce) {
        refusedOnce = true;
        res.writeHead(503).end();
        return;
      }
      received.push({ body, signature: String(req.headers['x-rampart-signature']), payload: JSON.parse(body) as Received['payload'] });
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`,
        received,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    ),
  );
}

const tierRule = (tier: string) => ({ attribute: 'attributes.tier', op: 'eq', value: tier });
const { quietHours, endsAt: quietEndsAt } = quietNow();
const QUIET = QUIET_ZONE;
const AWAKE = AWAKE_ZONE;

const plan = {
  stages: [
    { segments: ['power'], exposureBps: 5000, minSoakMs: 800, checkIntervalMs: 200, gates: [] },
    { segments: ['new'], exposureBps: 10_000, minSoakMs: 800, checkIntervalMs: 200, gates: [] },
    { segments: ['power', 'default'], exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
  ],
};

interface Device {
  id: string;
  tier: string | null;
  timeZone: string | null;
}

describe('segment notifications', () => {
  const ctx = useTestStack();
  let relay: Awaited<ReturnType<typeof startRelay>>;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay?.close();
  });

  it('notifies each segment when a stage opens for it: newly exposed devices only, outside quiet hours, signed, retried and listed', async () => {
    const appId = 'com.example.notify';
    // Devices that report no zone are judged in the app's: awake here.
    expect((await ctx.admin.post('/v1/apps', { id: appId, name: 'Notify', defaultTimeZone: AWAKE })).status).toBe(201);
    expect((await ctx.admin.post('/v1/apps', { id: 'com.example.badzone', name: 'Bad', defaultTimeZone: 'Mars/Olympus' })).status).toBe(400);
    expect((await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody('2.0.0'))).status).toBe(201);
    for (const [key, priority] of [['power', 10], ['new', 20]] as const) {
      expect((await ctx.admin.post(`/v1/apps/${appId}/segments`, { key, rule: tierRule(key), priority })).status).toBe(201);
    }
    const hook = await ctx.admin.post(`/v1/apps/${appId}/webhooks`, { url: relay.url, events: ['segment_notification'] });
    expect(hook.status).toBe(201);
    const secret = hook.body.secret as string;

    const devices: Device[] = [
      ...Array.from({ length: 40 }, (_, i): Device => ({ id: `pw-${i}`, tier: 'power', timeZone: [QUIET, AWAKE, null][i % 3]! })),
      // Too many for a payload: the relay pages through them with a token.
      ...Array.from({ length: 600 }, (_, i): Device => ({ id: `nw-${String(i).padStart(3, '0')}`, tier: 'new', timeZone: AWAKE })),
      ...Array.from({ length: 5 }, (_, i): Device => ({ id: `nq-${i}`, tier: 'new', timeZone: QUIET })),
      ...Array.from({ length: 10 }, (_, i): Device => ({ id: `df-${i}`, tier: null, timeZone: AWAKE })),
    ];
    const check = (d: Device) =>
      ctx.device.post(`/v1/apps/${appId}/check`, {
        deviceId: d.id,
        platform: 'ios',
        nativeVersion: '3.0.0',
        bundleVersion: 'builtin',
        ...(d.tier ? { attributes: { tier: d.tier } } : {}),
        ...(d.timeZone ? { timeZone: d.timeZone } : {}),
      });
    expect((await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: 'x', platform: 'ios', nativeVersion: '3.0.0', bundleVersion: 'builtin', timeZone: 'Nowhere/Land' })).status).toBe(400);
    for (let i = 0; i < devices.length; i += 50) {
      const answers = await Promise.all(devices.slice(i, i + 50).map(check));
      expect(answers.every((a) => a.status === 200)).toBe(true);
    }
    await waitFor(
      'the fleet to be profiled',
      async () => (await ctx.stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE app_id = $1 AND channel = $2', [appId, 'production'])).rows[0]!.n,
      (n) => n === devices.length,
    );

    const refused = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '2.0.0', plan, notifications: [{ segment: 'ghost', message: { title: 'x' } }] });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('the app has no segment ghost');
    const noMessage = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '2.0.0', plan, notifications: [{ segment: 'power', message: {}, quietHours: { start: '22:00', end: '22:00' } }] });
    expect(noMessage.status).toBe(400);
    expect(noMessage.body.error.message).toMatch(/give a title, a body or data.*start and end must differ|start and end must differ.*give a title/s);

    const id = await startRelease(ctx.admin, appId, {
      version: '2.0.0',
      plan,
      notifications: [
        { segment: 'power', message: { title: 'New for power users', data: { screen: 'whats-new' } }, quietHours },
        { segment: 'new', message: { body: 'Welcome to 2.0' }, quietHours },
      ],
    });
    const salt = await bucketSaltOf(ctx.stack, id);
    const awake = (d: Device) => (d.timeZone ?? AWAKE) === AWAKE;
    const ids = (filter: (d: Device) => boolean) => devices.filter(filter).map((d) => d.id).sort();

    await waitForServed(ctx.stack, id, (r) => r.exposure.default === 10_000, 90_000);
    const deliveries = await waitFor(
      'three deliveries at the relay',
      () => Promise.resolve(relay.received),
      (r) => r.length >= 3,
    );

    // Every delivery is signed with the relay's secret.
    for (const d of deliveries) {
      const [t, v1] = d.signature.split(',').map((part) => part.split('=')[1]!);
      expect(v1).toBe(createHmac('sha256', secret).update(`${t}.${d.body}`).digest('hex'));
      expect(d.payload.event).toBe('segment_notification');
    }
    const [first, second, third] = [...deliveries].sort((a, b) => a.payload.stageIndex - b.payload.stageIndex).map((d) => d.payload);

    // Stage 1 opened for power at 50 %: the awake power users in that half, by id in the payload.
    expect(first).toMatchObject({ segment: 'power', stageIndex: 0, exposureBps: 5000, bundleVersion: '2.0.0', message: { title: 'New for power users', data: { screen: 'whats-new' } } });
    expect([...first!.devices.ids!].sort()).toEqual(ids((d) => d.tier === 'power' && awake(d) && bucketOf(salt, d.id) < 5000));

    // Stage 2 opened for new users: 600 awake devices, behind a token the relay pages through.
    expect(second).toMatchObject({ segment: 'new', stageIndex: 1, exposureBps: 10_000, message: { body: 'Welcome to 2.0' }, devices: { count: 600 } });
    expect(second!.devices.ids).toBeUndefined();
    const paged: string[] = [];
    let next: string | null = `${second!.devices.url}?limit=250`;
    while (next) {
      const page = await ctx.device.get(next);
      expect(page.status).toBe(200);
      paged.push(...(page.body.deviceIds as string[]));
      next = page.body.next as string | null;
    }
    expect(paged).toEqual(ids((d) => d.tier === 'new' && awake(d)));
    expect((await ctx.device.get(`/v1/notifications/snt_${'A'.repeat(43)}/devices`)).status).toBe(404);
    expect((await ctx.device.get('/v1/notifications/not-a-token/devices')).status).toBe(400);

    // Stage 3 took power to 100 %: only the power users not told before.
    expect(third).toMatchObject({ segment: 'power', stageIndex: 2, exposureBps: 10_000 });
    expect([...third!.devices.ids!].sort()).toEqual(ids((d) => d.tier === 'power' && awake(d) && bucketOf(salt, d.id) >= 5000));

    // Quiet devices wait for the end of quiet hours; the default segment has no notification.
    const listed = await ctx.admin.get(`/v1/releases/${id}/notifications`);
    expect(listed.status).toBe(200);
    const notifications = listed.body.notifications as Array<{
      segment: string;
      stageIndex: number;
      preparedAt: string | null;
      deliveries: Array<{ scheduledFor: string; deviceCount: number; devicesBy: string; relays: Array<{ outcome: string | null; attempts: number }> }>;
    }>;
    expect(notifications.map((n) => [n.segment, n.stageIndex])).toEqual([
      ['power', 0],
      ['new', 1],
      ['power', 2],
    ]);
    const quietCounts = [
      ids((d) => d.tier === 'power' && !awake(d) && bucketOf(salt, d.id) < 5000).length,
      5,
      ids((d) => d.tier === 'power' && !awake(d) && bucketOf(salt, d.id) >= 5000).length,
    ];
    notifications.forEach((n, i) => {
      expect(n.preparedAt).not.toBeNull();
      const [sent, later] = n.deliveries;
      // The first delivery met the relay's 503 and was retried like any webhook.
      expect(sent!.relays).toEqual([expect.objectContaining({ outcome: 'delivered', attempts: i === 0 ? 2 : 1 })]);
      expect(later).toMatchObject({ scheduledFor: new Date(quietEndsAt).toISOString(), deviceCount: quietCounts[i], relays: [{ outcome: null, attempts: 0 }] });
    });
    expect(notifications[1]!.deliveries[0]!.devicesBy).toBe('token');
    expect(relay.received).toHaveLength(3);
  });

  it("notifies an experiment's segment arm by arm: each treatment arm's devices with their arm's bundle, none of the control on the baseline, none of a stopped arm", async () => {
    const appId = 'com.example.notify-experiment';
    expect((await ctx.admin.post('/v1/apps', { id: appId, name: 'Notify experiment', defaultTimeZone: AWAKE })).status).toBe(201);
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) expect((await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody(version))).status).toBe(201);
    expect((await ctx.admin.post(`/v1/apps/${appId}/segments`, { key: 'power', rule: tierRule('power'), priority: 10 })).status).toBe(201);
    expect((await ctx.admin.post(`/v1/apps/${appId}/webhooks`, { url: relay.url, events: ['segment_notification'] })).status).toBe(201);
    const baseline = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] } });
    await waitForServed(ctx.stack, baseline, (r) => r.status === 'completed');

    const fleet: Device[] = [
      ...Array.from({ length: 120 }, (_, i): Device => ({ id: `xp-${i}`, tier: 'power', timeZone: null })),
      ...Array.from({ length: 20 }, (_, i): Device => ({ id: `xd-${i}`, tier: null, timeZone: null })),
    ];
    const check = (d: Device) =>
      ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: d.id, platform: 'ios', nativeVersion: '3.0.0', bundleVersion: '1.0.0', ...(d.tier ? { attributes: { tier: d.tier } } : {}) });
    expect((await Promise.all(fleet.map(check))).every((a) => a.status === 200)).toBe(true);
    await waitFor(
      'the fleet to be profiled',
      async () => (await ctx.stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE app_id = $1 AND channel = $2', [appId, 'production'])).rows[0]!.n,
      (n) => n === fleet.length,
    );

    const arms = [{ key: 'control' }, { key: 'b', version: '1.1.0' }, { key: 'c', version: '1.2.0' }];
    const started = await ctx.admin.post(`/v1/apps/${appId}/experiments`, {
      arms,
      primaryMetric: 'session_duration',
      plan: {
        stages: [
          { segments: ['power'], exposureBps: 5000, minSoakMs: 600_000, checkIntervalMs: 300 },
          { segments: ['power', 'default'], exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 300 },
        ],
      },
      notifications: [{ segment: 'power', message: { title: 'Something new to try' } }],
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.id as string;
    await waitForServed(ctx.stack, id, (r) => r.exposure.power === 5000);
    const salt = await bucketSaltOf(ctx.stack, id);
    const armSalt = (await ctx.stack.db.pool.query<{ arm_salt: string }>('SELECT arm_salt FROM experiments WHERE release_id = $1', [id])).rows[0]!.arm_salt;
    const armOfDevice = (deviceId: string) => arms[armIndexOf(armSalt, deviceId, [1, 1, 1])!]!.key;
    /** The power devices of an arm in a slice of buckets, as serving assigns them. */
    const powerOf = (key: string, fromBps: number, toBps: number) =>
      fleet.filter((d) => d.tier === 'power' && bucketOf(salt, d.id) >= fromBps && bucketOf(salt, d.id) < toBps && armOfDevice(d.id) === key).map((d) => d.id).sort();
    const toldOf = (toBps: number) => relay.received.filter((r) => r.payload.release.id === id && r.payload.exposureBps === toBps).map((r) => r.payload);
    const listed = async () =>
      (await ctx.admin.get(`/v1/releases/${id}/notifications`)).body.notifications as Array<{
        toBps: number;
        preparedAt: string | null;
        deliveries: Array<{ id: string; arm: string | null; bundleVersion: string | null; deviceCount: number; relays: Array<{ outcome: string | null }> }>;
      }>;

    // Stage 1 opened power at 50 %: one delivery per treatment arm, with its bundle; the control's devices (on the baseline) hear nothing.
    const firstGrowth = await waitFor('the first growth prepared and sent', listed, (n) => n.length === 1 && n[0]!.deliveries.length > 0 && n[0]!.deliveries.every((d) => d.relays[0]?.outcome === 'delivered'));
    expect(firstGrowth[0]!.deliveries.map((d) => [d.arm, d.bundleVersion])).toEqual([
      ['b', '1.1.0'],
      ['c', '1.2.0'],
    ]);
    const first = toldOf(5000).sort((x, y) => x.arm!.localeCompare(y.arm!));
    expect(first.map((p) => [p.arm, p.bundleVersion, p.id.endsWith(`:${p.arm}`)])).toEqual([
      ['b', '1.1.0', true],
      ['c', '1.2.0', true],
    ]);
    for (const payload of first) {
      expect(payload).toMatchObject({ segment: 'power', stageIndex: 0, exposureBps: 5000, message: { title: 'Something new to try' } });
      expect([...payload.devices.ids!].sort()).toEqual(powerOf(payload.arm!, 0, 5000));
      expect(payload.devices.ids!.length).toBeGreaterThan(0);
    }
    const control = powerOf('control', 0, 5000);
    expect(control.length).toBeGreaterThan(0);
    expect(first.flatMap((p) => p.devices.ids!).filter((deviceId) => control.includes(deviceId))).toEqual([]);

    // What the devices are then served agrees: each told device is offered the version it was told, every other one nothing.
    const told = new Map(first.flatMap((p) => p.devices.ids!.map((deviceId) => [deviceId, p.bundleVersion] as const)));
    const answers = await Promise.all(fleet.map(async (d) => ({ id: d.id, answer: (await check(d)).body as { action: string; bundle?: { version: string } } })));
    for (const { id: deviceId, answer } of answers) expect(answer.action === 'update' ? answer.bundle?.version : undefined, deviceId).toBe(told.get(deviceId));

    // Arm c is stopped, then the next stage takes power to 100 %: only arm b's newly exposed devices hear of it.
    expect((await ctx.admin.post(`/v1/releases/${id}/stop-arm`, { arm: 'c', reason: 'c misbehaves' })).status).toBe(200);
    expect((await ctx.admin.post(`/v1/releases/${id}/promote`, { reason: 'next stage' })).status).toBe(200);
    await waitForServed(ctx.stack, id, (r) => r.exposure.power === 10_000);
    const secondGrowth = await waitFor('the second growth prepared and sent', listed, (n) => n.length === 2 && n[1]!.preparedAt !== null && n[1]!.deliveries.every((d) => d.relays[0]?.outcome === 'delivered'));
    expect(secondGrowth[1]!.deliveries.map((d) => [d.arm, d.bundleVersion, d.deviceCount])).toEqual([['b', '1.1.0', powerOf('b', 5000, 10_000).length]]);
    const [second] = toldOf(10_000);
    expect(second).toMatchObject({ arm: 'b', bundleVersion: '1.1.0', stageIndex: 1, exposureBps: 10_000 });
    expect([...second!.devices.ids!].sort()).toEqual(powerOf('b', 5000, 10_000));
    expect(powerOf('c', 5000, 10_000).length).toBeGreaterThan(0);
    expect(toldOf(10_000)).toHaveLength(1);
  });
});
