import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAppWithBundles } from '../support/fixtures';
import { waitFor } from '../../scripts/support/until';
import { useTestStack } from '../support/test-stack';

const APP = 'com.hostile.app';
const CAPGO_DEVICE = '3f0c1a2b-0000-4000-8000-000000000001';
const SEED = 20_251_202;

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** A string is sent as is (broken or deep JSON); anything else as JSON. */
  body?: unknown;
  admin?: boolean;
}

type Shape = 'rampart' | 'capgo';
const shapeOf = (path: string): Shape => (/^\/(updates|stats|channel_self)/.test(path) ? 'capgo' : 'rampart');

/** What each protocol's clients read a refusal as. */
function hasErrorShape(shape: Shape, body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Record<string, unknown>;
  if (shape === 'capgo') return typeof b.error === 'string' && typeof b.message === 'string';
  const e = b.error as Record<string, unknown> | undefined;
  return typeof e === 'object' && e !== null && typeof e.code === 'string' && typeof e.message === 'string';
}

const eventPost = (deviceId: string, message: string): Call => ({
  method: 'POST',
  path: `/v1/apps/${APP}/events`,
  body: { deviceId, platform: 'ios', nativeVersion: '3.1.0', events: [{ type: 'js_error', at: new Date().toISOString(), bundleVersion: 'builtin', message }] },
});

// ---- the corpus: valid requests of every device route and the main admin routes, one field made hostile ----

const deepJson = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const hostileString = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), fc.integer({ min: 0, max: 0x1f }), fc.string({ maxLength: 20 })).map(([a, c, b]) => `${a}${String.fromCharCode(c)}${b}`),
  fc.constantFrom('\u0000', 'v1\u0000', '\u007f', '1.0.0\r\n', 'a\u0000'.repeat(100)),
  fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom('\ud800', '\udfff1.0.0', '🚀'.repeat(500), '\u202eppa.elpmaxe.moc', 'ｃｏｍ.ｅｘａｍｐｌｅ', 'é'.repeat(5000)),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
);
const hostileValue = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, 0, -1, 1e308, [], {}, [1, 2], { nested: { deeper: ['x'] } }),
  fc.integer({ min: 33, max: 1000 }).map((depth) => JSON.parse(deepJson(depth)) as unknown),
);

const capgoInfo = { app_id: APP, device_id: CAPGO_DEVICE, platform: 'ios', is_emulator: false, is_prod: true, version_build: '3.1.0', version_name: 'builtin', plugin_version: '8.0.0' };
const templates: Array<{ call: Call; fields: string[] }> = [
  { call: { method: 'POST', path: `/v1/apps/${APP}/check`, body: { deviceId: 'd-1', platform: 'ios', nativeVersion: '3.1.0', bundleVersion: 'builtin', channel: 'production', attributes: { plan: 'pro' } } }, fields: ['deviceId', 'platform', 'nativeVersion', 'bundleVersion', 'channel', 'attributes'] },
  { call: eventPost('d-2', 'boom'), fields: ['deviceId', 'nativeVersion', 'events'] },
  { call: { method: 'POST', path: '/updates', body: capgoInfo }, fields: Object.keys(capgoInfo) },
  { call: { method: 'POST', path: '/stats', body: [{ ...capgoInfo, version_os: '17', action: 'app_crash', metadata: { stack: 'x' } }] }, fields: ['0'] },
  { call: { method: 'POST', path: '/stats', body: { ...capgoInfo, version_os: '17', action: 'set', metadata: { stack: 'x' } } }, fields: ['action', 'metadata', 'version_os', 'version_name'] },
  { call: { method: 'POST', path: '/channel_self', body: { ...capgoInfo, plugin_version: '5.0.0', channel: 'production' } }, fields: ['channel', 'device_id', 'app_id', 'version_name'] },
  { call: { method: 'PUT', path: '/channel_self', body: capgoInfo }, fields: ['device_id', 'defaultChannel', 'custom_id'] },
  { call: { method: 'DELETE', path: '/channel_self', body: capgoInfo }, fields: ['device_id', 'app_id'] },
  { call: { method: 'POST', path: '/v0.1/public/codepush/report_status/deploy', body: { deployment_key: 'k', app_version: '3.1.0', label: '1.0.0', status: 'DeploymentSucceeded', client_unique_id: 'd-3' } }, fields: ['deployment_key', 'app_version', 'label', 'status', 'client_unique_id', 'previous_label_or_app_version'] },
  { call: { method: 'POST', path: '/v0.1/public/codepush/report_status/download', body: { deployment_key: 'k', label: '1.0.0', client_unique_id: 'd-3' } }, fields: ['deployment_key', 'label', 'client_unique_id'] },
  {
    call: { method: 'POST', path: `/v1/apps/${APP}/expo/events`, body: { deviceId: 'd-4', platform: 'ios', runtimeVersion: '1.0.0', events: [{ type: 'crash', at: new Date().toISOString(), updateId: null }] } },
    fields: ['deviceId', 'platform', 'runtimeVersion', 'events', 'channel'],
  },
  { call: { method: 'POST', path: '/v1/apps', body: { id: 'com.hostile.other', name: 'Other' }, admin: true }, fields: ['id', 'name'] },
  { call: { method: 'POST', path: `/v1/apps/${APP}/bundles`, body: { version: '9.0.0', url: 'https://cdn.example.com/9.zip', sha256: 'a'.repeat(64), size: 1, notes: 'n' }, admin: true }, fields: ['version', 'url', 'sha256', 'size', 'notes', 'nativeRange', 'platforms'] },
  { call: { method: 'POST', path: `/v1/apps/${APP}/segments`, body: { key: 'seg', rule: { attribute: 'attributes.plan', op: 'eq', value: 'pro' } }, admin: true }, fields: ['key', 'rule', 'priority', 'maintenanceWindows'] },
  { call: { method: 'POST', path: `/v1/apps/${APP}/releases`, body: { version: '9.9.9', plan: 'default' }, admin: true }, fields: ['version', 'plan', 'channel', 'timeScale'] },
  { call: { method: 'POST', path: `/v1/apps/${APP}/channels`, body: { name: 'beta' }, admin: true }, fields: ['name', 'public', 'platforms'] },
  { call: { method: 'PUT', path: `/v1/apps/${APP}/devices/d-1/channel`, body: { channel: 'production' }, admin: true }, fields: ['channel'] },
  { call: { method: 'POST', path: '/v1/releases/01jnotarelease/pause', body: { reason: 'r' }, admin: true }, fields: ['reason'] },
];

const hostilePathPart = fc.oneof(
  fc.constantFrom('%00', 'com.example%00app', '%7F', '%E2%80%AE', '%F0%9F%9A%80', '..%2F..%2Fetc', '%ZZ', 'com.' + 'a'.repeat(4000)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(encodeURIComponent),
);
const pathTemplates = [
  (p: string) => ({ method: 'POST', path: `/v1/apps/${p}/check`, body: { deviceId: 'd-1', platform: 'ios', nativeVersion: '3.1.0', bundleVersion: 'builtin' } }) as Call,
  (p: string) => ({ method: 'POST', path: `/v1/apps/${p}/events`, body: eventPost('d-1', 'x').body }) as Call,
  (p: string) => ({ method: 'GET', path: `/v1/apps/${p}`, admin: true }) as Call,
  (p: string) => ({ method: 'GET', path: `/v1/apps/${APP}/devices/${p}`, admin: true }) as Call,
  (p: string) => ({ method: 'GET', path: `/v1/apps/${p}/adoption?window=${p}`, admin: true }) as Call,
  (p: string) => ({ method: 'GET', path: `/v1/releases/${p}`, admin: true }) as Call,
  (p: string) => ({ method: 'GET', path: `/v0.1/public/codepush/update_check?deployment_key=${p}&app_version=${p}&client_unique_id=${p}` }) as Call,
  (p: string) => ({ method: 'GET', path: `/channel_self?app_id=${p}&device_id=${p}&platform=ios` }) as Call,
  (p: string) => ({ method: 'GET', path: `/v1/apps/${p}/expo/manifest` }) as Call,
  (p: string) => ({ method: 'PUT', path: `/v1/apps/${APP}/segments/${p}`, body: { priority: 1 }, admin: true }) as Call,
];

const mutated = fc.oneof(
  fc.tuple(fc.constantFrom(...templates), fc.nat(), hostileValue).map(([t, i, value]): Call => {
    const field = t.fields[i % t.fields.length]!;
    const body = structuredClone(t.call.body) as Record<string, unknown>;
    body[field] = value;
    return { ...t.call, body };
  }),
  fc.tuple(fc.constantFrom(...templates), fc.constantFrom('{"deviceId":', '\u0000', '[]', '"x"', 'null', deepJson(200_000), `[${'['.repeat(100_000)}`)).map(([t, raw]): Call => ({ ...t.call, body: raw })),
  fc.tuple(fc.constantFrom(...pathTemplates), hostilePathPart).map(([make, part]) => make(part)),
);

describe('hostile input against the real stack', () => {
  const ctx = useTestStack({ deviceRateLimit: { burst: 1_000_000, perSecond: 1_000_000 }, selfAssignment: { maxPerApp: 2 } });

  const send = async (call: Call) => {
    const res = await fetch(`${ctx.stack.baseUrl}${call.path}`, {
      method: call.method,
      headers: {
        ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(call.admin ? { authorization: `Bearer ${ctx.stack.adminKey}` } : {}),
      },
      body: call.body === undefined ? undefined : typeof call.body === 'string' ? call.body : JSON.stringify(call.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text: the shape check reports it
    }
    return { status: res.status, body };
  };

  const storedEvents = async (deviceIdPrefix: string) =>
    (await ctx.stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM device_events WHERE app_id = $1 AND device_id LIKE $2', [APP, `${deviceIdPrefix}%`])).rows[0]!.n;

  beforeAll(async () => {
    await createAppWithBundles(ctx.admin, APP, ['1.0.0']);
    await waitFor('the app in the snapshot', () => send(eventPost('warm-up', 'x')), (r) => r.status === 202);
  });

  it('a poisoned event post fails only itself: 2,000 posts from 32 clients, 1 in 10 with U+0000', async () => {
    const posts = Array.from({ length: 2000 }, (_, i) => ({ i, poisoned: i % 10 === 0 }));
    const results: Array<{ poisoned: boolean; status: number; body: unknown }> = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < posts.length) {
          const post = posts[next++]!;
          const res = await send(eventPost(`poison-${post.i}`, post.poisoned ? 'bad\u0000message' : 'TypeError: x\n  at y'));
          results.push({ poisoned: post.poisoned, ...res });
        }
      }),
    );
    const valid = results.filter((r) => !r.poisoned);
    const poisoned = results.filter((r) => r.poisoned);
    expect(valid.filter((r) => r.status !== 202)).toEqual([]);
    expect(new Set(poisoned.map((r) => r.status))).toEqual(new Set([400]));
    expect(poisoned[0]!.body).toMatchObject({ error: { code: 'validation_failed', details: { problems: [{ path: 'events[0].message' }] } } });
    expect(await storedEvents('poison-')).toBe(1800);
  });

  it('a malformed-input corpus of 1,200 cases, sent concurrently between valid posts: no 5xx, every refusal in its protocol\'s shape', async () => {
    const corpus = fc.sample(mutated, { seed: SEED, numRuns: 1200 });
    const failures: Array<{ call: string; status: number; body: string }> = [];
    let validPosts = 0;
    const BATCH = 24;
    for (let at = 0; at < corpus.length; at += BATCH) {
      const batch = corpus.slice(at, at + BATCH);
      const valid = [eventPost(`corpus-${at}-a`, 'ok'), eventPost(`corpus-${at}-b`, 'ok\nline two')];
      validPosts += valid.length;
      const [answers, validAnswers] = await Promise.all([Promise.all(batch.map(send)), Promise.all(valid.map(send))]);
      for (const v of validAnswers) expect(v.status).toBe(202);
      answers.forEach((res, i) => {
        const call = batch[i]!;
        const refused = res.status >= 400 || (shapeOf(call.path) === 'capgo' && typeof (res.body as { error?: unknown }).error === 'string');
        if (res.status >= 500 || (refused && !hasErrorShape(shapeOf(call.path), res.body))) {
          failures.push({ call: `${call.method} ${call.path.slice(0, 120)} ${String(typeof call.body === 'string' ? call.body : JSON.stringify(call.body)).slice(0, 160)}`, status: res.status, body: JSON.stringify(res.body).slice(0, 200) });
        }
      });
    }
    expect(failures).toEqual([]);
    expect(await storedEvents('corpus-')).toBe(validPosts);
  });

  it('caps legacy Capgo self-assignments per app, applies them without a reload, and lets them lapse', async () => {
    expect((await ctx.admin.post(`/v1/apps/${APP}/channels`, { name: 'self-beta', allowSelfAssign: true })).status).toBe(201);
    await waitFor('the channel in the snapshot', () => Promise.resolve(ctx.stack.api.deps.snapshot.app(APP)?.channels.has('self-beta')), Boolean);
    const device = (n: number) => `3f0c1a2b-0000-4000-8000-00000000010${n}`;
    const choose = (n: number) => send({ method: 'POST', path: '/channel_self', body: { ...capgoInfo, device_id: device(n), plugin_version: '5.0.0', channel: 'self-beta' } });
    expect((await choose(1)).body).toEqual({ status: 'ok' });
    expect((await choose(2)).body).toEqual({ status: 'ok' });
    expect((await choose(3)).body).toMatchObject({ error: 'channel_self_set_not_allowed', message: expect.stringMatching(/Too many devices/) });
    // Served from this instance's memory at once, without a NOTIFY round trip.
    expect(ctx.stack.api.deps.snapshot.app(APP)?.overrides.get(device(1))).toEqual({ channel: 'self-beta', source: 'self' });
    expect((await choose(1)).body).toEqual({ status: 'ok' });

    await ctx.stack.db.pool.query(`UPDATE device_channel_overrides SET created_at = now() - interval '91 days' WHERE app_id = $1 AND device_id = $2`, [APP, device(1)]);
    await ctx.stack.api.deps.snapshot.refreshApp(APP);
    expect(ctx.stack.api.deps.snapshot.app(APP)?.overrides.has(device(1))).toBe(false);
    expect((await choose(3)).body).toEqual({ status: 'ok' });
  });

  it('serves /metrics only on the ops port; health stays on the API port', async () => {
    // Not a route of the API port: it falls to the admin routes, which want a key first.
    const metrics = await send({ method: 'GET', path: '/metrics' });
    expect(metrics.status).toBe(401);
    expect(JSON.stringify(metrics.body)).not.toContain('rampart_');
    expect((await send({ method: 'GET', path: '/healthz' })).status).toBe(200);
  });

  it('reads no admin body before the key is checked', async () => {
    const res = await send({ method: 'POST', path: '/v1/apps', body: '{"id": "com.x.y", "name": ' });
    expect(res.status).toBe(401);
  });
});
