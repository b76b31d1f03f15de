import { describe, expect, it } from 'vitest';
import { bundleBody, createAppWithBundles, deviceInBuckets, startRelease, bucketSaltOf } from '../support/fixtures';
import { createHttp } from '../support/http';
import { waitForServed } from '../support/rollout-waits';
import { waitFor } from '../../scripts/support/until';
import { useTestStack } from '../support/test-stack';

const bake = (stages: Array<Record<string, unknown>>) => ({
  stages: stages.map((s) => ({ minSoakMs: 600_000, checkIntervalMs: 500, gates: [], ...s })),
});

describe('devices on the native protocol', () => {
  const ctx = useTestStack();
  const check = (appId: string, body: Record<string, unknown>) =>
    ctx.device.post(`/v1/apps/${appId}/check`, { platform: 'ios', nativeVersion: '3.0.0', bundleVersion: 'builtin', ...body });

  it('resolves segments by rule, first match by priority, engagement included', async () => {
    const appId = 'com.example.segments';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const segments = [
      { key: 'beta', rule: { attribute: 'attributes.tester', op: 'is_true' }, priority: 10 },
      { key: 'power', rule: { attribute: 'sessionsLast7d', op: 'gte', value: 3 }, priority: 20 },
      { key: 'enterprise', rule: { attribute: 'attributes.plan', op: 'eq', value: 'enterprise', caseInsensitive: true }, priority: 30 },
    ];
    for (const segment of segments) expect((await ctx.admin.post(`/v1/apps/${appId}/segments`, segment)).status).toBe(201);
    expect((await ctx.admin.get(`/v1/apps/${appId}/segments`)).body.segments.map((s: { key: string }) => s.key)).toEqual(['beta', 'power', 'enterprise']);

    const id = await startRelease(ctx.admin, appId, {
      version: '1.0.0',
      plan: bake([
        { segments: ['beta'], exposureBps: 10_000 },
        { segments: ['power'], exposureBps: 10_000 },
        { segments: ['enterprise', 'default'], exposureBps: 10_000 },
      ]),
    });
    await waitForServed(ctx.stack, id, (r) => r.exposure.beta === 10_000);

    expect((await check(appId, { deviceId: 'tester-1', attributes: { tester: true } })).body.action).toBe('update');
    expect((await check(appId, { deviceId: 'tester-2', attributes: { tester: true, plan: 'Enterprise' } })).body.action).toBe('update');
    expect((await check(appId, { deviceId: 'regular-1', attributes: { plan: 'ENTERPRISE' } })).body.action).toBe('none');
    expect((await check(appId, { deviceId: 'regular-2' })).body.action).toBe('none');

    // Three sessions this week make a device a power user once its profile is written and loaded.
    const at = new Date().toISOString();
    const sessions = await ctx.device.post(`/v1/apps/${appId}/events`, {
      deviceId: 'engaged-1',
      platform: 'ios',
      nativeVersion: '3.0.0',
      events: [1, 2, 3].map(() => ({ type: 'session_start', at, bundleVersion: 'builtin' })),
    });
    expect(sessions.status).toBe(202);
    await ctx.admin.post(`/v1/releases/${id}/promote`, { reason: 'power users next' });
    await waitForServed(ctx.stack, id, (r) => r.exposure.power === 10_000);
    // The profile is written and reloaded in the background (100 ms flush, 300 ms cache here).
    await waitFor(
      'engaged-1 to be offered the update as a power user',
      async () => (await check(appId, { deviceId: 'engaged-1' })).body as { action: string },
      (answer) => answer.action === 'update',
    );
    expect((await check(appId, { deviceId: 'regular-3' })).body.action).toBe('none');

    const inUse = await ctx.admin.delete(`/v1/apps/${appId}/segments/power`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.error).toMatchObject({ code: 'segment_in_use', details: { releaseIds: [id] } });
    const reserved = await ctx.admin.post(`/v1/apps/${appId}/segments`, { key: 'default', rule: { always: true } });
    expect(reserved.status).toBe(400);
    const badRule = await ctx.admin.post(`/v1/apps/${appId}/segments`, { key: 'odd', rule: { attribute: 'platform', op: 'gte', value: 3 } });
    expect(badRule.status).toBe(400);
    expect(badRule.body.error.details.problems[0].path).toMatch(/^rule/);
  });

  it('resolves channels: requested if allowed, public default otherwise, admin overrides first', async () => {
    const appId = 'com.example.channels';
    await createAppWithBundles(ctx.admin, appId, ['2.0.0', '2.1.0']);
    const beta = await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'beta', allowSelfAssign: true });
    expect(beta.status).toBe(201);
    expect(beta.body).toMatchObject({ name: 'beta', public: false, allowSelfAssign: true, deploymentKey: expect.stringMatching(/^dk_/) });
    expect((await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'internal' })).status).toBe(201);
    const clash = await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'other', public: true, platforms: ['ios'] });
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('public_channel_conflict');
    const listed = await ctx.admin.get(`/v1/apps/${appId}/channels`);
    expect(listed.body.channels.map((c: { name: string }) => c.name)).toEqual(['beta', 'internal', 'production']);

    const full = bake([{ exposureBps: 10_000 }]);
    const onBeta = await startRelease(ctx.admin, appId, { version: '2.0.0', channel: 'beta', plan: full });
    const onInternal = await startRelease(ctx.admin, appId, { version: '2.1.0', channel: 'internal', plan: full });
    await waitForServed(ctx.stack, onBeta, (r) => r.status === 'running');
    await waitForServed(ctx.stack, onInternal, (r) => r.status === 'running');

    expect((await check(appId, { deviceId: 'd-1', channel: 'beta' })).body).toMatchObject({ action: 'update', bundle: { version: '2.0.0' } });
    expect((await check(appId, { deviceId: 'd-1', channel: 'internal' })).body).toEqual({ action: 'none' });
    expect((await check(appId, { deviceId: 'd-1', channel: 'no-such-channel' })).body).toEqual({ action: 'none' });

    const forced = await ctx.admin.put(`/v1/apps/${appId}/devices/d-2/channel`, { channel: 'internal' });
    expect(forced.body).toEqual({ deviceId: 'd-2', channel: 'internal', source: 'admin' });
    let answer = (await check(appId, { deviceId: 'd-2', channel: 'beta' })).body;
    for (let i = 0; i < 50 && answer.action === 'update' && answer.bundle.version !== '2.1.0'; i++) {
      await ctx.stack.api.deps.snapshot.refreshApp(appId);
      answer = (await check(appId, { deviceId: 'd-2', channel: 'beta' })).body;
    }
    expect(answer).toMatchObject({ action: 'update', bundle: { version: '2.1.0' } });
    expect((await ctx.admin.delete(`/v1/apps/${appId}/devices/d-2/channel`)).status).toBe(204);
    await ctx.stack.api.deps.snapshot.refreshApp(appId);
    expect((await check(appId, { deviceId: 'd-2', channel: 'beta' })).body).toMatchObject({ bundle: { version: '2.0.0' } });
  });

  it('never offers a bundle outside its native range, and tells too-old apps to update from the store', async () => {
    const appId = 'com.example.nativerange';
    await createAppWithBundles(ctx.admin, appId, []);
    expect((await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody('4.0.0', { nativeRange: '>=3.0.0 <4', platforms: ['android'] }))).status).toBe(201);
    const bad = await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody('4.0.1', { nativeRange: 'not a range' }));
    expect(bad.status).toBe(400);
    const id = await startRelease(ctx.admin, appId, { version: '4.0.0', plan: bake([{ exposureBps: 10_000 }]) });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');

    expect((await check(appId, { deviceId: 'a', platform: 'android', nativeVersion: '3.2' })).body).toMatchObject({ action: 'update', bundle: { version: '4.0.0' } });
    expect((await check(appId, { deviceId: 'a', platform: 'android', nativeVersion: '2.9.9' })).body).toEqual({ action: 'none', storeUpdate: { version: '4.0.0', nativeRange: '>=3.0.0 <4' } });
    expect((await check(appId, { deviceId: 'a', platform: 'android', nativeVersion: '4.0.0' })).body).toEqual({ action: 'none' });
    expect((await check(appId, { deviceId: 'a', platform: 'ios', nativeVersion: '3.2.0' })).body).toEqual({ action: 'none' });
  });

  it('makes events durable before 202 and counts them in the release, segment and cohort window', async () => {
    const appId = 'com.example.telemetry';
    await createAppWithBundles(ctx.admin, appId, ['5.0.0']);
    const id = await startRelease(ctx.admin, appId, { version: '5.0.0', plan: bake([{ exposureBps: 1000 }, { exposureBps: 10_000 }]) });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    const salt = await bucketSaltOf(ctx.stack, id);
    const canary = deviceInBuckets(salt, 0, 1000);
    const control = deviceInBuckets(salt, 1000, 2000);
    const outside = deviceInBuckets(salt, 2000, 10_000);
    const post = (deviceId: string, bundleVersion: string, type: string) =>
      ctx.device.post(`/v1/apps/${appId}/events`, {
        deviceId,
        platform: 'ios',
        nativeVersion: '3.0.0',
        events: [{ type, at: new Date().toISOString(), bundleVersion }],
      });
    // Concurrent requests share group commits; every one is durable when it is answered.
    const answers = await Promise.all([post(canary, '5.0.0', 'crash'), post(canary, 'builtin', 'session_start'), post(control, 'builtin', 'js_error'), post(outside, 'builtin', 'crash')]);
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);

    const events = await ctx.stack.db.pool.query<{ device_id: string; release_id: string; segment: string; cohort: string; type: string }>(
      'SELECT device_id, release_id, segment, cohort, type FROM device_events WHERE app_id = $1 ORDER BY report_id, seq',
      [appId],
    );
    expect(events.rows).toHaveLength(4);
    expect(events.rows).toEqual(
      expect.arrayContaining([
        { device_id: canary, release_id: id, segment: 'default', cohort: 'canary', type: 'crash' },
        { device_id: canary, release_id: id, segment: 'default', cohort: 'none', type: 'session_start' },
        { device_id: control, release_id: id, segment: 'default', cohort: 'control', type: 'js_error' },
        { device_id: outside, release_id: id, segment: 'default', cohort: 'none', type: 'crash' },
      ]),
    );
    const windows = await ctx.stack.db.pool.query<{ device_id: string; slice: string; on_cohort_bundle: boolean; metrics: number }>(
      'SELECT device_id, slice, on_cohort_bundle, metrics FROM release_device_windows WHERE release_id = $1 ORDER BY device_id, on_cohort_bundle',
      [id],
    );
    expect(windows.rows).toEqual(
      expect.arrayContaining([
        { device_id: canary, slice: 'canary', on_cohort_bundle: true, metrics: 1 },
        { device_id: canary, slice: 'canary', on_cohort_bundle: false, metrics: 0 },
        { device_id: control, slice: 'control', on_cohort_bundle: true, metrics: 2 },
      ]),
    );
    expect(windows.rows.find((w) => w.device_id === outside)).toBeUndefined();
  });

  it('answers malformed device input with 4xx and writes nothing', async () => {
    const appId = 'com.example.badinput';
    await createAppWithBundles(ctx.admin, appId, []);
    const ok = { deviceId: 'dev-1', platform: 'ios', nativeVersion: '1.0.0', bundleVersion: 'builtin' };
    const event = { type: 'crash', at: new Date().toISOString(), bundleVersion: '1.0.0' };
    const okEvents = { deviceId: 'dev-1', platform: 'ios', nativeVersion: '1.0.0', events: [event] };
    const raw = createHttp(ctx.stack.baseUrl);
    const cases: Array<[string, string, unknown]> = [
      ['check', 'no body', undefined],
      ['check', 'an array', []],
      ['check', 'missing deviceId', { ...ok, deviceId: undefined }],
      ['check', 'empty deviceId', { ...ok, deviceId: '' }],
      ['check', 'deviceId with spaces', { ...ok, deviceId: 'a b' }],
      ['check', 'deviceId too long', { ...ok, deviceId: 'x'.repeat(129) }],
      ['check', 'unknown platform', { ...ok, platform: 'symbian' }],
      ['check', 'number as nativeVersion', { ...ok, nativeVersion: 3 }],
      ['check', 'unknown field', { ...ok, admin: true }],
      ['check', 'bad channel name', { ...ok, channel: '../etc' }],
      ['check', 'nested attribute', { ...ok, attributes: { a: { b: 1 } } }],
      ['check', 'too many attributes', { ...ok, attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, i])) }],
      ['events', 'no events', { ...okEvents, events: [] }],
      ['events', '101 events', { ...okEvents, events: Array.from({ length: 101 }, () => event) }],
      ['events', 'unknown type', { ...okEvents, events: [{ ...event, type: 'explode' }] }],
      ['events', 'bad time', { ...okEvents, events: [{ ...event, at: 'yesterday' }] }],
      ['events', 'time far in the future', { ...okEvents, events: [{ ...event, at: new Date(Date.now() + 5 * 86_400_000).toISOString() }] }],
      ['events', 'session_end without duration', { ...okEvents, events: [{ ...event, type: 'session_end' }] }],
      ['events', 'negative duration', { ...okEvents, events: [{ ...event, type: 'session_end', durationMs: -1 }] }],
      ['events', 'one bad event among good ones', { ...okEvents, events: [event, { ...event, bundleVersion: '' }] }],
    ];
    for (const [endpoint, name, body] of cases) {
      const res = await raw.post(`/v1/apps/${appId}/${endpoint}`, body);
      expect(res.status, `${endpoint}: ${name}`).toBe(400);
      expect(res.body.error, `${endpoint}: ${name}`).toMatchObject({ code: 'validation_failed', message: expect.any(String) });
    }
    const invalidJson = await raw.post(`/v1/apps/${appId}/events`, '{"deviceId": "dev-1",', {});
    expect(invalidJson.status).toBe(400);
    expect(invalidJson.body.error.code).toBe('invalid_json');
    const huge = await raw.post(`/v1/apps/${appId}/check`, { ...ok, attributes: { blob: 'x'.repeat(40_000) } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('body_too_large');
    const unknownApp = await raw.post('/v1/apps/com.example.nobody/check', ok);
    expect(unknownApp.status).toBe(404);

    const { rows } = await ctx.stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM device_events WHERE app_id = $1', [appId]);
    expect(rows[0]!.n).toBe(0);
  });

  it('limits how often one device may call, with Retry-After', async () => {
    const appId = 'com.example.ratelimit';
    await createAppWithBundles(ctx.admin, appId, []);
    const answers = await Promise.all(Array.from({ length: 40 }, () => check(appId, { deviceId: 'chatty' })));
    const limited = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(30);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited[0]!.body.error.code).toBe('rate_limited');
    expect((await check(appId, { deviceId: 'quiet' })).status).toBe(200);
  });
});
