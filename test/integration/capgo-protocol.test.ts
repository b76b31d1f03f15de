import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bucketOf } from '../../domain/bucketing';
import { bundleBody, createAppWithBundles, sha256Of, startRelease, bucketSaltOf } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

// Plans that finish in about a second, and one that holds its stage until an on-call command.
const full = { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] };
const held = (exposureBps: number) => ({
  stages: [...new Set([exposureBps, 10_000])].map((bps) => ({ exposureBps: bps, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] })),
});

/** The InfoObject exactly as Android 8.51.x sends it (reference §3.1). */
function infoObject(appId: string, deviceId: string, extra: Record<string, unknown> = {}) {
  return {
    platform: 'android',
    device_id: deviceId,
    app_id: appId,
    custom_id: '',
    version_build: '3.0.0',
    version_code: '30000',
    version_os: '13',
    version_name: 'builtin',
    plugin_version: '8.51.23',
    is_emulator: false,
    is_prod: true,
    install_source: 'google_play',
    defaultChannel: 'staging',
    key_id: 'MIIBCgKCAQEAu1Xb3Lq9',
    ...extra,
  };
}

/** One stats event as iOS 8.51.x queues it (reference §5.1). */
function statsEvent(appId: string, deviceId: string, extra: Record<string, unknown> = {}) {
  return {
    platform: 'ios',
    device_id: deviceId,
    app_id: appId,
    custom_id: 'user_42',
    version_build: '3.0.0',
    version_code: '300',
    version_os: '17.5',
    version_name: '1.4.2',
    old_version_name: '',
    plugin_version: '8.51.23',
    is_emulator: false,
    is_prod: true,
    install_source: 'app_store',
    defaultChannel: 'production',
    key_id: 'MIIBCgKCAQEAu1Xb3Lq9',
    action: 'app_moved_to_foreground',
    timestamp: Date.now(),
    ...extra,
  };
}

/** A Capgo-style device id (lower-case UUID) whose bucket for the release salt lies in [from, to). */
function uuidInBuckets(salt: string, from: number, to: number): string {
  for (;;) {
    const id = randomUUID();
    const bucket = bucketOf(salt, id);
    if (bucket >= from && bucket < to) return id;
  }
}

const UP_TO_DATE = { error: 'no_new_version_available', message: 'No new version available', kind: 'up_to_date' };

describe('devices on the Capgo protocol', () => {
  const ctx = useTestStack();
  const updates = (body: unknown) => ctx.device.post('/updates', body);
  const releaseFully = async (appId: string, version: string, channel?: string) => {
    const id = await startRelease(ctx.admin, appId, { version, plan: full, ...(channel ? { channel } : {}) });
    await waitForServed(ctx.stack, id, (r) => r.status === 'completed');
    return id;
  };
  const bundleAnswer = (version: string, sessionKey = '') => ({
    version,
    url: `https://cdn.example.com/bundles/${version}.zip`,
    checksum: sha256Of(version),
    session_key: sessionKey,
  });
  const count = async (sql: string, params: unknown[]) => (await ctx.stack.db.pool.query<{ n: number }>(sql, params)).rows[0]!.n;

  it('offers the release bundle, answers up_to_date with a kind, and sends devices on a rolled-back bundle to the previous one', async () => {
    const appId = 'com.example.capgo.updates';
    const sessionKey = 'aXYxMjM0NTY3ODkwMTI=:ZW5jcnlwdGVkLWFlcy1rZXk=';
    await createAppWithBundles(ctx.admin, appId, []);
    expect((await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody('1.0.0', { sessionKey }))).status).toBe(201);
    expect((await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody('1.1.0'))).status).toBe(201);
    await releaseFully(appId, '1.0.0');

    expect(await ctx.device.get('/updates')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const device = randomUUID();
    const offered = await updates(infoObject(appId, device));
    expect(offered.status).toBe(200);
    expect(offered.body).toEqual(bundleAnswer('1.0.0', sessionKey));
    expect(await updates(infoObject(appId, device, { version_name: '1.0.0' }))).toMatchObject({ status: 200, body: UP_TO_DATE });

    const bad = await startRelease(ctx.admin, appId, { version: '1.1.0', plan: held(10_000) });
    await waitForServed(ctx.stack, bad, (r) => r.status === 'running');
    expect((await updates(infoObject(appId, device, { version_name: '1.0.0' }))).body).toEqual(bundleAnswer('1.1.0'));

    const rolledBack = await ctx.admin.post(`/v1/releases/${bad}/rollback`, { reason: 'checkout crashes on 1.1.0' });
    expect(rolledBack.status).toBe(200);
    await waitForServed(ctx.stack, bad, (r) => r.status === 'rolled_back');
    // An older bundle is installed like any other: the plugin takes any version it does not run.
    expect((await updates(infoObject(appId, device, { version_name: '1.1.0' }))).body).toEqual(bundleAnswer('1.0.0', sessionKey));
    expect((await updates(infoObject(appId, device, { version_name: '1.0.0' }))).body).toEqual(UP_TO_DATE);
  });

  it('sends exactly {"version":"builtin"} when the rolled-back bundle had no predecessor', async () => {
    const appId = 'com.example.capgo.builtin';
    await createAppWithBundles(ctx.admin, appId, ['2.0.0']);
    const id = await startRelease(ctx.admin, appId, { version: '2.0.0', plan: held(10_000) });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    const device = randomUUID();
    expect((await updates(infoObject(appId, device))).body).toEqual(bundleAnswer('2.0.0'));

    expect((await ctx.admin.post(`/v1/releases/${id}/rollback`, { reason: 'white screen on start' })).status).toBe(200);
    await waitForServed(ctx.stack, id, (r) => r.status === 'rolled_back');
    const back = await updates(infoObject(appId, device, { version_name: '2.0.0' }));
    expect(back.status).toBe(200);
    expect(back.body).toEqual({ version: 'builtin' });
    expect((await updates(infoObject(appId, device))).body).toEqual(UP_TO_DATE);
  });

  it('resolves the channel from defaultChannel if the device may use it, else the public one; an admin override wins', async () => {
    const appId = 'com.example.capgo.channels';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '1.1.0', '1.2.0']);
    expect((await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'beta', allowSelfAssign: true })).status).toBe(201);
    expect((await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'internal' })).status).toBe(201);
    await Promise.all([releaseFully(appId, '1.0.0'), releaseFully(appId, '1.1.0', 'beta'), releaseFully(appId, '1.2.0', 'internal')]);

    const device = randomUUID();
    const on = async (defaultChannel: string) => ((await updates(infoObject(appId, device, { defaultChannel }))).body as { version: string }).version;
    expect(await on('beta')).toBe('1.1.0');
    expect(await on('internal')).toBe('1.0.0');
    expect(await on('')).toBe('1.0.0');
    expect(await on('staging')).toBe('1.0.0');

    const forced = await ctx.admin.put(`/v1/apps/${appId}/devices/${device}/channel`, { channel: 'internal' });
    expect(forced.status).toBe(200);
    await ctx.stack.api.deps.snapshot.refreshApp(appId);
    expect(await on('beta')).toBe('1.2.0');
    expect(await on('')).toBe('1.2.0');

    const lonely = 'com.example.capgo.nochannel';
    await createAppWithBundles(ctx.admin, lonely, []);
    // The test client has no PATCH; the admin API is called directly.
    const narrowed = await fetch(`${ctx.stack.baseUrl}/v1/apps/${lonely}/channels/production`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.stack.adminKey}` },
      body: JSON.stringify({ platforms: ['ios'] }),
    });
    expect(narrowed.status).toBe(200);
    await ctx.stack.api.deps.snapshot.refreshApp(lonely);
    expect((await updates(infoObject(lonely, randomUUID()))).body).toEqual({ error: 'no_channel', message: 'No channel or override found for this device', kind: 'failed' });
  });

  it('never offers a bundle outside its native range, and tells too-old apps to update from the store', async () => {
    const appId = 'com.example.capgo.native';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    expect((await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody('2.0.0', { nativeRange: '>=5.0.0 <6' }))).status).toBe(201);
    await releaseFully(appId, '1.0.0');
    await releaseFully(appId, '2.0.0');
    const device = randomUUID();
    const check = async (versionBuild: string, versionName = 'builtin') =>
      (await updates(infoObject(appId, device, { version_build: versionBuild, version_name: versionName }))).body as unknown;

    expect(await check('5.1')).toEqual(bundleAnswer('2.0.0'));
    // Too old: the best bundle its binary takes first, then the store-update block that fires breakingAvailable.
    expect(await check('3.0.0')).toEqual(bundleAnswer('1.0.0'));
    expect(await check('3.0.0', '1.0.0')).toEqual({
      error: 'disable_auto_update_to_major',
      message: 'store_update_required',
      major: true,
      version: '2.0.0',
      old: '3.0.0',
      nativeRange: '>=5.0.0 <6',
      kind: 'blocked',
    });
    // Too new for the range: never offered, and no store update can help.
    expect(await check('6.0.0')).toEqual(bundleAnswer('1.0.0'));
    expect(await check('6.0.0', '1.0.0')).toEqual(UP_TO_DATE);
  });

  it('takes stats as an array with per-event results and as a single object; durable, attributed, prod devices only in the gates', async () => {
    const appId = 'com.example.capgo.stats';
    await createAppWithBundles(ctx.admin, appId, ['5.0.0']);
    const id = await startRelease(ctx.admin, appId, { version: '5.0.0', plan: held(1000) });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    const salt = await bucketSaltOf(ctx.stack, id);
    const [phone, emulator, debugBuild] = [uuidInBuckets(salt, 0, 1000), uuidInBuckets(salt, 0, 1000), uuidInBuckets(salt, 0, 1000)];
    const on = (deviceId: string, extra: Record<string, unknown>) => statsEvent(appId, deviceId, { version_name: '5.0.0', ...extra });

    const batch = [
      on(phone, { action: 'set', old_version_name: 'builtin', metadata: { duration_ms: '812', source: 'notify_app_ready' } }),
      on(phone, { action: 'update_fail' }),
      on(phone, { action: 'app_launch_timeout', metadata: { duration_ms: '10004', timeout_ms: '10000', source: 'app_ready_timeout' } }),
      on(phone, { action: 'download_manifest_file_fail', version_name: '5.0.0:assets/app.js' }),
      on(phone, { action: 'set', version_os: undefined }),
      on(phone, { action: 'app_crash', metadata: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, 'v'])) }),
      on(phone, { action: 'webview_some_future_signal' }),
      on(phone, { action: 'app_crash', platform: 'symbian' }),
      on(phone, { action: 'app_crash', version_build: 'not-a-version' }),
      on(phone, { action: 'app_moved_to_foreground' }),
    ];
    const answer = await ctx.device.post('/stats', batch);
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('ok');
    expect(answer.body.results.map((r: { status: string; error?: string; index: number }) => [r.index, r.error ?? r.status])).toEqual([
      [0, 'ok'],
      [1, 'ok'],
      [2, 'ok'],
      [3, 'ok'],
      [4, 'invalid_json_body'],
      [5, 'invalid_json_body'],
      [6, 'ok'],
      [7, 'invalid_json_body'],
      [8, 'semver_error'],
      [9, 'ok'],
    ]);
    expect(answer.body.results[4]).toMatchObject({ status: 'error', message: 'Cannot parse body', moreInfo: { issues: [{ path: 'version_os' }] } });

    const events = await ctx.stack.db.pool.query<{ type: string; bundle_version: string; release_id: string; cohort: string; details: Record<string, unknown> }>(
      'SELECT type, bundle_version, release_id, cohort, details FROM device_events WHERE app_id = $1 AND device_id = $2 ORDER BY report_id, seq',
      [appId, phone],
    );
    expect(events.rows).toEqual([
      { type: 'install_ok', bundle_version: '5.0.0', release_id: id, cohort: 'canary', details: { action: 'set', oldVersionName: 'builtin', metadata: { duration_ms: '812', source: 'notify_app_ready' } } },
      { type: 'boot_failed', bundle_version: '5.0.0', release_id: id, cohort: 'canary', details: { action: 'update_fail' } },
      {
        type: 'capgo:app_launch_timeout',
        bundle_version: '5.0.0',
        release_id: id,
        cohort: 'canary',
        details: { action: 'app_launch_timeout', metadata: { duration_ms: '10004', timeout_ms: '10000', source: 'app_ready_timeout' } },
      },
      { type: 'install_failed', bundle_version: '5.0.0', release_id: id, cohort: 'canary', details: { action: 'download_manifest_file_fail', file: 'assets/app.js' } },
      { type: 'capgo:other', bundle_version: '5.0.0', release_id: id, cohort: 'canary', details: { action: 'webview_some_future_signal' } },
      { type: 'session_start', bundle_version: '5.0.0', release_id: id, cohort: 'canary', details: { action: 'app_moved_to_foreground' } },
    ]);

    // Single objects (older plugins, download progress, rate_limit_reached) answer {status: ok}.
    const fromEmulator = await ctx.device.post('/stats', on(emulator, { action: 'update_fail', is_emulator: true }));
    expect(fromEmulator).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(Object.keys(fromEmulator.body)).toEqual(['status']);
    expect((await ctx.device.post('/stats', on(debugBuild, { action: 'update_fail', is_prod: false }))).body).toEqual({ status: 'ok' });
    expect(await count(`SELECT count(*)::int AS n FROM device_events WHERE app_id = $1 AND type = 'boot_failed'`, [appId])).toBe(3);

    const windows = await ctx.stack.db.pool.query<{ device_id: string; slice: string; on_cohort_bundle: boolean; metrics: number; events: number }>(
      'SELECT device_id, slice, on_cohort_bundle, metrics, events FROM release_device_windows WHERE release_id = $1',
      [id],
    );
    // boot_failed (4) and install_failed (8) from the phone; the emulator and the debug build count for nothing.
    expect(windows.rows).toEqual([{ device_id: phone, slice: 'canary', on_cohort_bundle: true, metrics: 12, events: 6 }]);
  });

  it('handles channel_self: set, get, list and the legacy unset, with Capgo error codes', async () => {
    const appId = 'com.example.capgo.self';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '1.1.0']);
    expect((await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'beta', allowSelfAssign: true })).status).toBe(201);
    expect((await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'internal' })).status).toBe(201);
    expect((await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'ios-beta', allowSelfAssign: true, platforms: ['ios'] })).status).toBe(201);
    await Promise.all([releaseFully(appId, '1.0.0'), releaseFully(appId, '1.1.0', 'beta')]);
    const overrides = () => ctx.stack.db.pool.query('SELECT device_id, channel, source FROM device_channel_overrides WHERE app_id = $1 ORDER BY device_id', [appId]);

    // Current plugins: the server validates, the plugin keeps the channel itself.
    const modern = randomUUID();
    const body = (deviceId: string, extra: Record<string, unknown> = {}) => infoObject(appId, deviceId, { version_os: '14', version_name: '1.0.0', defaultChannel: '', ...extra });
    const set = async (deviceId: string, extra: Record<string, unknown>) => (await ctx.device.post('/channel_self', body(deviceId, extra))).body as unknown;
    expect(await set(modern, { channel: 'beta' })).toEqual({ status: 'ok', allowSet: true });
    expect(await set(modern, { channel: 'production' })).toEqual({ status: 'ok', unset: true });
    expect(await set(modern, { channel: 'internal' })).toEqual({
      error: 'channel_self_set_not_allowed',
      message: 'This channel does not allow devices to self associate',
      channel: 'internal',
      app_id: appId,
    });
    expect(await set(modern, { channel: 'ios-beta' })).toMatchObject({ error: 'channel_self_set_not_allowed', channel: 'ios-beta' });
    expect(await set(modern, { channel: 'nope' })).toEqual({ error: 'channel_not_found', message: 'Cannot find channel', channel: 'nope', app_id: appId });
    expect(await set(modern, {})).toEqual({ error: 'missing_channel', message: 'Cannot find channel in body' });
    expect((await overrides()).rows).toEqual([]);

    const get = async (deviceId: string, extra: Record<string, unknown> = {}) => (await ctx.device.put('/channel_self', body(deviceId, extra))).body as unknown;
    expect(await get(modern, { channel: 'beta' })).toEqual({ channel: 'beta', status: 'override', allowSet: true });
    expect(await get(modern, { defaultChannel: 'beta' })).toEqual({ channel: 'beta', status: 'default', allowSet: true });
    expect(await get(modern)).toEqual({ channel: 'production', status: 'default', allowSet: false });

    const list = async (platform: string) => {
      const query = new URLSearchParams({ ...body(modern, { platform }), is_emulator: 'false', is_prod: 'true' } as Record<string, string>);
      return ctx.device.get(`/channel_self?${query.toString()}`);
    };
    const android = await list('android');
    expect(android.status).toBe(200);
    expect(android.body).toEqual([
      { id: expect.any(Number), name: 'beta', public: false, allow_self_set: true },
      { id: expect.any(Number), name: 'production', public: true, allow_self_set: false },
    ]);
    const ios = await list('ios');
    expect(ios.body.map((c: { name: string }) => c.name)).toEqual(['beta', 'ios-beta', 'production']);
    expect(ios.body[0].id).toBe(android.body[0].id);
    expect(new Set(ios.body.map((c: { id: number }) => c.id)).size).toBe(3);

    // Plugins before X.34 expect the server to keep their choice, and unset it with DELETE.
    const legacy = randomUUID();
    const old = { plugin_version: '7.33.0' };
    expect(await set(legacy, { ...old, channel: 'beta' })).toEqual({ status: 'ok' });
    expect((await overrides()).rows).toEqual([{ device_id: legacy, channel: 'beta', source: 'self' }]);
    await ctx.stack.api.deps.snapshot.refreshApp(appId);
    expect((await updates(body(legacy, old))).body).toEqual(bundleAnswer('1.1.0'));
    expect(await get(legacy, old)).toEqual({ channel: 'beta', status: 'override', allowSet: true });
    const unsetQuery = new URLSearchParams({ ...body(legacy, old), is_emulator: 'false', is_prod: 'true' } as Record<string, string>);
    expect((await ctx.device.delete(`/channel_self?${unsetQuery.toString()}`)).body).toEqual({ status: 'ok' });
    expect((await overrides()).rows).toEqual([]);
    await ctx.stack.api.deps.snapshot.refreshApp(appId);
    expect((await updates(body(legacy, old))).body).toEqual(UP_TO_DATE);

    const oldAndroid = randomUUID();
    expect(await set(oldAndroid, { plugin_version: '5.20.1', channel: 'beta' })).toEqual({ status: 'ok' });
    expect((await ctx.device.delete('/channel_self', body(oldAndroid, { plugin_version: '5.20.1' }))).body).toEqual({ status: 'ok' });
    expect(await set(legacy, { ...old, channel: 'production' })).toEqual({ status: 'ok' });
    expect((await overrides()).rows).toEqual([]);

    // An admin override outranks whatever the device asks for.
    const forced = randomUUID();
    expect((await ctx.admin.put(`/v1/apps/${appId}/devices/${forced}/channel`, { channel: 'internal' })).status).toBe(200);
    await ctx.stack.api.deps.snapshot.refreshApp(appId);
    expect(await set(forced, { channel: 'beta' })).toMatchObject({ error: 'cannot_override' });
    expect(await get(forced, { channel: 'beta' })).toEqual({ channel: 'internal', status: 'override', allowSet: false });
    expect((await ctx.device.delete('/channel_self', body(forced, old))).body).toMatchObject({ error: 'cannot_override' });
    expect((await overrides()).rows).toEqual([{ device_id: forced, channel: 'internal', source: 'admin' }]);

    // Malformed requests and unknown apps.
    const missingDevice = await ctx.device.post('/channel_self', { ...body(modern, { channel: 'beta' }), device_id: undefined });
    expect(missingDevice).toMatchObject({ status: 400, body: { error: 'missing_device_id' } });
    expect(await ctx.device.get(`/channel_self?platform=android&is_emulator=false&is_prod=true`)).toMatchObject({ status: 400, body: { error: 'missing_app_id' } });
    expect(await ctx.device.get(`/channel_self?app_id=${appId}&platform=symbian`)).toMatchObject({ status: 400, body: { error: 'invalid_query_parameters' } });
    expect(await ctx.device.get(`/channel_self?app_id=${appId}&platform=ios&is_prod=maybe`)).toMatchObject({ status: 400, body: { error: 'invalid_query_parameters' } });
    expect(await ctx.device.put('/channel_self', '{"app_id":')).toMatchObject({ status: 400, body: { error: 'invalid_json_parse_body' } });
    const nobody = infoObject('com.example.capgo.nobody', randomUUID(), { channel: 'beta' });
    const onPremise = { error: 'on_premise_app', message: 'On-premise app detected' };
    expect(await ctx.device.post('/channel_self', nobody)).toMatchObject({ status: 429, body: onPremise });
    expect(await ctx.device.put('/channel_self', nobody)).toMatchObject({ status: 429, body: onPremise });
    expect(await ctx.device.delete('/channel_self', nobody)).toMatchObject({ status: 429, body: onPremise });
    expect(await ctx.device.get(`/channel_self?app_id=com.example.capgo.nobody&platform=ios`)).toMatchObject({ status: 429, body: onPremise });
  });

  it('answers 429 with Retry-After once one device exceeds its rate limit', async () => {
    const appId = 'com.example.capgo.ratelimit';
    await createAppWithBundles(ctx.admin, appId, []);
    await ctx.stack.api.deps.snapshot.refreshApp(appId);
    const chatty = randomUUID();
    const answers = await Promise.all(Array.from({ length: 40 }, () => updates(infoObject(appId, chatty))));
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(30);
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    const first = limited[0]!;
    expect(first.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
    expect(first.body).toEqual({
      error: 'too_many_requests',
      message: 'Too many requests',
      moreInfo: { app_id: appId, rateLimitResetAt: expect.any(Number), retryAfterSeconds: Number(first.headers.get('retry-after')) },
    });
    // One budget per device across endpoints: its stats are refused alike (at most one token refilled meanwhile).
    const stats = await Promise.all(Array.from({ length: 5 }, () => ctx.device.post('/stats', [statsEvent(appId, chatty)])));
    expect(stats.find((a) => a.status === 429)?.body).toMatchObject({ error: 'too_many_requests', moreInfo: { retryAfterSeconds: expect.any(Number) } });
    expect((await updates(infoObject(appId, randomUUID()))).status).toBe(200);
  });

  it('answers malformed input with 4xx in Capgo shapes, never 5xx, and writes nothing', async () => {
    const appId = 'com.example.capgo.badinput';
    await createAppWithBundles(ctx.admin, appId, []);
    await ctx.stack.api.deps.snapshot.refreshApp(appId);
    const ok = infoObject(appId, randomUUID());
    const updateCases: Array<[string, unknown, number, string]> = [
      ['no body', undefined, 400, 'invalid_json_body'],
      ['an array', [ok], 400, 'invalid_json_body'],
      ['an empty object', {}, 400, 'invalid_json_body'],
      ['missing device_id', { ...ok, device_id: undefined }, 400, 'missing_device_id'],
      ['empty device_id', { ...ok, device_id: '' }, 400, 'missing_device_id'],
      ['missing app_id', { ...ok, app_id: undefined }, 400, 'missing_app_id'],
      ['non-UUID device_id', { ...ok, device_id: 'device-1' }, 400, 'invalid_json_body'],
      ['device_id too long', { ...ok, device_id: `${ok.device_id}0` }, 400, 'invalid_json_body'],
      ['numeric device_id', { ...ok, device_id: 42 }, 400, 'invalid_json_body'],
      ['unknown platform', { ...ok, platform: 'symbian' }, 400, 'invalid_json_body'],
      ['web platform', { ...ok, platform: 'web' }, 400, 'invalid_json_body'],
      ['non-semver version_build', { ...ok, version_build: 'not-a-version' }, 400, 'semver_error'],
      ['numeric version_build', { ...ok, version_build: 3 }, 400, 'invalid_json_body'],
      ['empty version_name', { ...ok, version_name: '' }, 400, 'invalid_json_body'],
      ['version_name too long', { ...ok, version_name: '1'.repeat(101) }, 400, 'invalid_json_body'],
      ['is_prod as a string', { ...ok, is_prod: 'true' }, 400, 'invalid_json_body'],
      ['missing is_emulator', { ...ok, is_emulator: undefined }, 400, 'invalid_json_body'],
      ['plugin_version not semver', { ...ok, plugin_version: 'latest' }, 400, 'invalid_json_body'],
      ['custom_id too long', { ...ok, custom_id: 'c'.repeat(37) }, 400, 'invalid_json_body'],
      ['key_id too long', { ...ok, key_id: 'k'.repeat(21) }, 400, 'invalid_json_body'],
      ['install_source too long', { ...ok, install_source: 's'.repeat(65) }, 400, 'invalid_json_body'],
      ['defaultChannel too long', { ...ok, defaultChannel: 'b'.repeat(129) }, 400, 'invalid_json_body'],
      ['app_id not reverse-domain', { ...ok, app_id: 'my app' }, 400, 'invalid_json_body'],
      ['invalid JSON', '{"app_id": "com.example.capgo.badinput",', 400, 'invalid_json_parse_body'],
      ['a JSON string', '"hello"', 400, 'invalid_json_parse_body'],
      ['a body over 32 kB', { ...ok, padding: 'x'.repeat(40_000) }, 413, 'body_too_large'],
      ['an unknown app', infoObject('com.example.capgo.nobody', randomUUID()), 429, 'on_premise_app'],
    ];
    for (const [name, body, status, error] of updateCases) {
      const res = await updates(body);
      expect(res.status, name).toBe(status);
      expect(res.body, name).toMatchObject({ error, message: expect.any(String) });
      expect(res.body.kind, name).toBeUndefined();
    }
    const withIssues = await updates({ ...ok, platform: 'symbian' });
    expect(withIssues.body.moreInfo.issues).toEqual([{ path: 'platform', message: expect.any(String) }]);
    // Tolerated: an upper-case id (lower-cased), unknown extra fields, an empty defaultChannel.
    const tolerated = await updates({ ...ok, device_id: randomUUID().toUpperCase(), defaultChannel: '', future_field: { a: 1 } });
    expect(tolerated).toMatchObject({ status: 200, body: UP_TO_DATE });

    const event = statsEvent(appId, randomUUID());
    const statsCases: Array<[string, unknown, number, string]> = [
      ['invalid JSON', '[{"app_id":', 400, 'invalid_json_parse_body'],
      ['a JSON number', '42', 400, 'invalid_json_parse_body'],
      ['no body', undefined, 400, 'invalid_json_body'],
      ['an object without action', { ...event, action: undefined }, 400, 'invalid_json_body'],
      ['an object with an action that is not a name', { ...event, action: 'drop table;' }, 400, 'invalid_json_body'],
      ['an object without device_id', { ...event, device_id: undefined }, 400, 'missing_device_id'],
      ['an object with a metadata number', { ...event, metadata: { n: 1 } }, 400, 'invalid_json_body'],
      ['an object with a long metadata key', { ...event, metadata: { ['k'.repeat(65)]: 'v' } }, 400, 'invalid_json_body'],
      ['an object with a long metadata value', { ...event, metadata: { k: 'v'.repeat(2049) } }, 400, 'invalid_json_body'],
      ['201 events', Array.from({ length: 201 }, () => event), 400, 'invalid_json_body'],
      ['mixed app ids', [event, { ...event, app_id: 'com.example.other' }], 400, 'mixed_app_ids'],
      ['no app id anywhere', [{ ...event, app_id: undefined }], 400, 'invalid_app_id'],
      ['a malformed app id', [{ ...event, app_id: 'not an app' }], 400, 'invalid_app_id'],
      ['a body over 1 MB', Array.from({ length: 200 }, () => ({ ...event, padding: 'x'.repeat(6000) })), 413, 'body_too_large'],
      ['an unknown app', [statsEvent('com.example.capgo.nobody', randomUUID())], 429, 'on_premise_app'],
    ];
    for (const [name, body, status, error] of statsCases) {
      const res = await ctx.device.post('/stats', body);
      expect(res.status, name).toBe(status);
      expect(res.body, name).toMatchObject({ error, message: expect.any(String) });
    }

    for (const app of [appId, 'com.example.capgo.nobody']) {
      expect(await count('SELECT count(*)::int AS n FROM device_events WHERE app_id = $1', [app])).toBe(0);
    }
    expect(await count('SELECT count(*)::int AS n FROM device_channel_overrides WHERE app_id = $1', [appId])).toBe(0);
  });
});
