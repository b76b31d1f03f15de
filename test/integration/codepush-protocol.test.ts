import { AcquisitionManager, AcquisitionStatus, type Callback, type Http, type Package } from 'code-push/script/acquisition-sdk';
import { CodePushHttpError } from 'code-push/script/code-push-error';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bundleBody, deviceInBuckets, sha256Of, startRelease, bucketSaltOf } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

// Http.Verb is an ambient const enum: its members cannot be read at runtime under isolatedModules.
const METHOD_NAMES = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'OPTIONS', 'CONNECT', 'PATCH'];

/** What react-native-code-push hands the SDK, on fetch: every status is an answer, only transport failures are errors. */
class FetchRequester implements Http.Requester {
  request(verb: Http.Verb, url: string, callback: Callback<Http.Response>): void;
  request(verb: Http.Verb, url: string, body: string, callback: Callback<Http.Response>): void;
  request(verb: Http.Verb, url: string, bodyOrCallback: string | Callback<Http.Response>, last?: Callback<Http.Response>): void {
    const reply = typeof bodyOrCallback === 'function' ? bodyOrCallback : last!;
    const body = typeof bodyOrCallback === 'string' ? bodyOrCallback : undefined;
    const headers = { 'Content-Type': 'application/json', 'X-CodePush-SDK-Version': '4.2.3' };
    fetch(url, { method: METHOD_NAMES[verb as number], headers, body })
      .then(async (res) => ({ statusCode: res.status, body: await res.text() }))
      .then(
        (res) => reply(null as unknown as Error, res),
        (err: Error) => reply(err, undefined as unknown as Http.Response),
      );
  }
}

const call = <T>(start: (cb: Callback<T>) => void) => new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value))));

type Current = Parameters<AcquisitionManager['queryUpdateWithCurrentPackage']>[0];

const stage = (exposureBps: number, minSoakMs: number) => ({ exposureBps, minSoakMs, checkIntervalMs: 100, gates: [] });
const completing = { stages: [stage(10_000, 100)] };
// A first stage that never ends on its own: the release stays in flight for the whole test.
const inFlight = { stages: [stage(1000, 600_000), stage(10_000, 100)] };

describe('CodePush device protocol', () => {
  const ctx = useTestStack();

  afterEach(() => {
    vi.restoreAllMocks();
  });

  const createApp = async (appId: string, bundles: Array<[string, Record<string, unknown>?]>) => {
    expect((await ctx.admin.post('/v1/apps', { id: appId, name: appId })).status).toBe(201);
    for (const [version, extra] of bundles) expect((await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody(version, extra))).status).toBe(201);
  };

  const deploymentKey = async (appId: string, channel = 'production'): Promise<string> => {
    const res = await ctx.admin.get(`/v1/apps/${appId}/channels`);
    return (res.body.channels as Array<{ name: string; deploymentKey: string }>).find((c) => c.name === channel)!.deploymentKey;
  };

  const complete = async (appId: string, version: string, channel?: string) => {
    const id = await startRelease(ctx.admin, appId, { version, plan: completing, ...(channel ? { channel } : {}) });
    await waitForServed(ctx.stack, id, (r) => r.status === 'completed');
    return id;
  };

  const begin = async (appId: string, version: string, releasePlan = inFlight) => {
    const id = await startRelease(ctx.admin, appId, { version, plan: releasePlan });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    const salt = await bucketSaltOf(ctx.stack, id);
    return { id, salt };
  };

  const sdk = (key: string, clientUniqueId: string, appVersion = '1.0.0') =>
    new AcquisitionManager(new FetchRequester(), { serverUrl: ctx.stack.baseUrl, deploymentKey: key, appVersion, clientUniqueId });

  const query = (device: AcquisitionManager, current: Partial<Package>) => call((cb) => device.queryUpdateWithCurrentPackage(current as Current, cb));

  const rawCheck = async (params: Record<string, string>, path = '/v0.1/public/codepush/update_check') => {
    const res = await ctx.device.get<Record<string, unknown>>(`${path}?${new URLSearchParams(params).toString()}`);
    expect(res.status).toBe(200);
    return res.body;
  };

  const eventsOf = async (appId: string, deviceId: string) =>
    (
      await ctx.stack.db.pool.query<{ type: string; bundle_version: string; release_id: string | null; cohort: string; details: unknown }>(
        'SELECT type, bundle_version, release_id, cohort, details FROM device_events WHERE app_id = $1 AND device_id = $2 ORDER BY report_id, seq',
        [appId, deviceId],
      )
    ).rows;

  it('offers a completed release to a fresh binary, echoing its version, and stores its download and deploy reports', async () => {
    const appId = 'com.example.codepush.fresh';
    await createApp(appId, [['1.1.0', { nativeRange: '^1.0.0' }]]);
    const releaseId = await complete(appId, '1.1.0');
    const key = await deploymentKey(appId);
    const device = sdk(key, 'cp-fresh-1', '1.2.0');

    const offered = await query(device, { appVersion: '1.2.0' });
    expect(offered).toEqual({
      deploymentKey: key,
      description: '',
      label: '1.1.0',
      appVersion: '1.2.0',
      isMandatory: false,
      packageHash: sha256Of('1.1.0'),
      packageSize: bundleBody('1.1.0').size,
      downloadUrl: 'https://cdn.example.com/bundles/1.1.0.zip',
    });

    await call((cb) => device.reportStatusDownload(offered as Package, cb));
    await call((cb) => device.reportStatusDeploy(offered as Package, AcquisitionStatus.DeploymentSucceeded, '1.2.0', key, cb));
    // The app later ships a new binary from the store: a deploy report without a package.
    await call((cb) => device.reportStatusDeploy(undefined, undefined, '1.1.0', key, cb));

    expect(await eventsOf(appId, 'cp-fresh-1')).toEqual([
      { type: 'codepush:download', bundle_version: '1.1.0', release_id: releaseId, cohort: 'none', details: null },
      {
        type: 'install_ok',
        bundle_version: '1.1.0',
        release_id: releaseId,
        cohort: 'none',
        details: { previous_label_or_app_version: '1.2.0', previous_deployment_key: key },
      },
      { type: 'codepush:binary_deploy', bundle_version: 'builtin', release_id: releaseId, cohort: 'none', details: { previous_label_or_app_version: '1.1.0', previous_deployment_key: key } },
    ]);
  });

  it('answers "up to date" to a device on the current label: null from the SDK, the exact code-push-server shape on the wire', async () => {
    const appId = 'com.example.codepush.current';
    await createApp(appId, [['2.0.0']]);
    await complete(appId, '2.0.0');
    const key = await deploymentKey(appId);

    expect(await query(sdk(key, 'cp-current-1'), { appVersion: '1.0.0', label: '2.0.0', packageHash: sha256Of('2.0.0') })).toBeNull();
    expect(await rawCheck({ deployment_key: key, app_version: '1.0.0', label: '2.0.0', client_unique_id: 'cp-current-1' })).toEqual({
      update_info: {
        is_available: false,
        should_run_binary_version: false,
        update_app_version: false,
        target_binary_range: '1.0.0',
        download_url: '',
        description: '',
        is_mandatory: false,
        app_version: '1.0.0',
        package_hash: '',
        label: '',
        package_size: 0,
      },
    });
  });

  it('stores DeploymentFailed as boot_failed and counts it in the gate window of the release in flight', async () => {
    const appId = 'com.example.codepush.failed';
    await createApp(appId, [['1.0.0']]);
    const { id, salt } = await begin(appId, '1.0.0');
    const key = await deploymentKey(appId);
    const canary = deviceInBuckets(salt, 0, 1000, 'cp');
    const device = sdk(key, canary);

    const offered = await query(device, { appVersion: '1.0.0' });
    expect(offered).toMatchObject({ label: '1.0.0', isMandatory: false });
    expect(await query(sdk(key, deviceInBuckets(salt, 1000, 10_000, 'cp')), { appVersion: '1.0.0' })).toBeNull();

    const windows = async () =>
      (
        await ctx.stack.db.pool.query<{ slice: string; on_cohort_bundle: boolean; metrics: number }>(
          'SELECT slice, on_cohort_bundle, metrics FROM release_device_windows WHERE release_id = $1 AND device_id = $2',
          [id, canary],
        )
      ).rows;

    // A download alone is no exposure to the bundle: the gates do not see the device yet.
    await call((cb) => device.reportStatusDownload(offered as Package, cb));
    expect(await windows()).toEqual([]);
    // react-native-code-push reports a package it restarted into but had to leave again.
    await call((cb) => device.reportStatusDeploy(offered as Package, AcquisitionStatus.DeploymentFailed, undefined, undefined, cb));

    expect((await eventsOf(appId, canary)).map(({ type, cohort }) => [type, cohort])).toEqual([
      ['codepush:download', 'canary'],
      ['boot_failed', 'canary'],
    ]);
    expect((await eventsOf(appId, canary))[1]).toEqual({ type: 'boot_failed', bundle_version: '1.0.0', release_id: id, cohort: 'canary', details: null });
    const counted = await windows();
    expect(counted).toHaveLength(1);
    expect(counted[0]).toMatchObject({ slice: 'canary', on_cohort_bundle: true });
    expect(counted[0]!.metrics & 4).toBe(4);
  });

  it('never puts a device without client_unique_id into a canary, even at full exposure', async () => {
    const appId = 'com.example.codepush.anonymous';
    await createApp(appId, [['1.0.0']]);
    await begin(appId, '1.0.0', { stages: [stage(10_000, 600_000)] });
    const key = await deploymentKey(appId);

    expect(await query(sdk(key, 'cp-anon-known'), { appVersion: '1.0.0' })).toMatchObject({ label: '1.0.0' });
    expect(await query(sdk(key, ''), { appVersion: '1.0.0' })).toBeNull();
  });

  it('after a rollback offers the previous label as mandatory, or sends a device with no earlier release back to its binary', async () => {
    const appId = 'com.example.codepush.rollback';
    await createApp(appId, [['1.0.0'], ['1.1.0']]);
    await complete(appId, '1.0.0');
    const bad = await begin(appId, '1.1.0');
    const key = await deploymentKey(appId);
    const canary = sdk(key, deviceInBuckets(bad.salt, 0, 1000, 'cp'));
    expect(await query(canary, { appVersion: '1.0.0', label: '1.0.0' })).toMatchObject({ label: '1.1.0' });

    expect((await ctx.admin.post(`/v1/releases/${bad.id}/rollback`, { reason: 'crashes on start' })).status).toBe(200);
    await waitForServed(ctx.stack, bad.id, (r) => r.status === 'rolled_back');
    expect(await query(canary, { appVersion: '1.0.0', label: '1.1.0' })).toEqual(
      expect.objectContaining({ label: '1.0.0', isMandatory: true, appVersion: '1.0.0', packageHash: sha256Of('1.0.0') }),
    );
    expect(await query(canary, { appVersion: '1.0.0', label: '1.0.0' })).toBeNull();

    const firstAppId = 'com.example.codepush.rollbackfirst';
    await createApp(firstAppId, [['2.0.0']]);
    const first = await begin(firstAppId, '2.0.0');
    const firstKey = await deploymentKey(firstAppId);
    const deviceId = deviceInBuckets(first.salt, 0, 1000, 'cp');
    expect(await query(sdk(firstKey, deviceId), { appVersion: '1.0.0' })).toMatchObject({ label: '2.0.0' });
    expect((await ctx.admin.post(`/v1/releases/${first.id}/rollback`, { reason: 'wrong build' })).status).toBe(200);
    await waitForServed(ctx.stack, first.id, (r) => r.status === 'rolled_back');

    // The 4.2.3 SDK drops should_run_binary_version, so the device only sees "nothing to install".
    expect(await query(sdk(firstKey, deviceId), { appVersion: '1.0.0', label: '2.0.0' })).toBeNull();
    const raw = await rawCheck({ deployment_key: firstKey, app_version: '1.0.0', label: '2.0.0', client_unique_id: deviceId });
    expect(raw.update_info).toMatchObject({ is_available: false, should_run_binary_version: true, update_app_version: false });
  });

  it('never offers a bundle outside its native range; a binary that is too old is told to update from the store', async () => {
    const appId = 'com.example.codepush.native';
    await createApp(appId, [['3.0.0', { nativeRange: '>=2.0.0 <3.0.0' }]]);
    await complete(appId, '3.0.0');
    const key = await deploymentKey(appId);

    expect(await query(sdk(key, 'cp-old', '1.5.0'), { appVersion: '1.5.0' })).toEqual({ updateAppVersion: true, appVersion: '>=2.0.0 <3.0.0' });
    expect(await query(sdk(key, 'cp-new', '3.1.0'), { appVersion: '3.1.0' })).toBeNull();
    expect((await rawCheck({ deployment_key: key, app_version: '3.1.0', client_unique_id: 'cp-new' })).update_info).toMatchObject({
      is_available: false,
      update_app_version: false,
    });
    // "2.1" is read as 2.1.0 for the range, and echoed as the device sent it.
    expect(await query(sdk(key, 'cp-short', '2.1'), { appVersion: '2.1' })).toMatchObject({ label: '3.0.0', appVersion: '2.1' });
  });

  it('takes the platform from a channel made for one platform, and never offers a bundle built for another', async () => {
    const appId = 'com.example.codepush.platform';
    await createApp(appId, [['1.0.0', { platforms: ['android'] }]]);
    expect((await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'ios-beta', platforms: ['ios'] })).status).toBe(201);
    await complete(appId, '1.0.0', 'ios-beta');
    await complete(appId, '1.0.0');

    expect(await query(sdk(await deploymentKey(appId, 'ios-beta'), 'cp-ios'), { appVersion: '1.0.0' })).toBeNull();
    expect(await query(sdk(await deploymentKey(appId), 'cp-any'), { appVersion: '1.0.0' })).toMatchObject({ label: '1.0.0' });
  });

  it('serves the legacy camelCase routes of older SDKs', async () => {
    const appId = 'com.example.codepush.legacy';
    await createApp(appId, [['1.0.0']]);
    await complete(appId, '1.0.0');
    const key = await deploymentKey(appId);

    expect(await rawCheck({ deploymentKey: key, appVersion: '1', clientUniqueId: 'cp-legacy' }, '/updateCheck')).toEqual({
      updateInfo: {
        downloadURL: 'https://cdn.example.com/bundles/1.0.0.zip',
        description: '',
        isAvailable: true,
        isMandatory: false,
        appVersion: '1',
        targetBinaryRange: '1',
        packageHash: sha256Of('1.0.0'),
        label: '1.0.0',
        packageSize: bundleBody('1.0.0').size,
        updateAppVersion: false,
        shouldRunBinaryVersion: false,
      },
    });

    const download = await ctx.device.post('/reportStatus/download', { deploymentKey: key, label: '1.0.0', clientUniqueId: 'cp-legacy' });
    const deploy = await ctx.device.post('/reportStatus/deploy', { deploymentKey: key, appVersion: '1', label: '1.0.0', status: 'DeploymentSucceeded', clientUniqueId: 'cp-legacy' });
    expect([download.status, download.body, deploy.status, deploy.body]).toEqual([200, 'OK', 200, 'OK']);
    expect((await eventsOf(appId, 'cp-legacy')).map((e) => e.type)).toEqual(['codepush:download', 'install_ok']);
  });

  it('answers an unknown deployment key with 404, which the SDK turns into a CodePushHttpError', async () => {
    const device = sdk('dk_no_such_key', 'cp-unknown');
    const check = query(device, { appVersion: '1.0.0' });
    await expect(check).rejects.toBeInstanceOf(CodePushHttpError);
    await expect(check).rejects.toThrow(/^404: .*unknown deployment key/);
    const pkg = { label: '1.0.0', appVersion: '1.0.0' } as Package;
    await expect(call((cb) => device.reportStatusDeploy(pkg, AcquisitionStatus.DeploymentSucceeded, undefined, undefined, cb))).rejects.toThrow(/^404: /);
    await expect(call((cb) => device.reportStatusDownload(pkg, cb))).rejects.toThrow(/^404: /);
  });

  it('refuses malformed requests with a 4xx and writes nothing', async () => {
    const appId = 'com.example.codepush.malformed';
    await createApp(appId, [['1.0.0']]);
    const key = await deploymentKey(appId);
    const check = vi.spyOn(ctx.stack.api.deps.devices, 'check');
    const report = vi.spyOn(ctx.stack.api.deps.devices, 'report');
    const updateCheck = (params: string) => ctx.device.get(`/v0.1/public/codepush/update_check?${params}`);
    const deploy = (body: unknown, path = '/v0.1/public/codepush/report_status/deploy') => ctx.device.post(path, body);
    const good = { deployment_key: key, app_version: '1.0.0', client_unique_id: 'cp-bad', label: '1.0.0', status: 'DeploymentSucceeded' };

    const cases: Array<[string, () => Promise<{ status: number }>, number]> = [
      ['check without a key', () => updateCheck('app_version=1.0.0'), 400],
      ['check with an empty key', () => updateCheck('deployment_key=&app_version=1.0.0'), 400],
      ['check without app_version', () => updateCheck(`deployment_key=${key}`), 400],
      ['check with an app_version that is no version', () => updateCheck(`deployment_key=${key}&app_version=banana`), 400],
      ['check with a repeated key', () => updateCheck(`deployment_key=${key}&deployment_key=${key}&app_version=1.0.0`), 400],
      ['check with an oversize label', () => updateCheck(`deployment_key=${key}&app_version=1.0.0&label=${'x'.repeat(101)}`), 400],
      ['check with an oversize device id', () => updateCheck(`deployment_key=${key}&app_version=1.0.0&client_unique_id=${'d'.repeat(129)}`), 400],
      ['legacy check without appVersion', () => ctx.device.get(`/updateCheck?deploymentKey=${key}`), 400],
      ['deploy with a label but no status', () => deploy({ ...good, status: undefined }), 400],
      ['deploy with an unknown status', () => deploy({ ...good, status: 'Installed' }), 400],
      ['deploy without a key', () => deploy({ ...good, deployment_key: undefined }), 400],
      ['deploy without app_version', () => deploy({ ...good, app_version: undefined }), 400],
      ['deploy with an oversize label', () => deploy({ ...good, label: 'x'.repeat(101) }), 400],
      ['deploy with an oversize previous label', () => deploy({ ...good, previous_label_or_app_version: 'x'.repeat(101) }), 400],
      ['deploy with a device id that has spaces', () => deploy({ ...good, client_unique_id: 'my phone' }), 400],
      ['deploy with invalid JSON', () => deploy('{"deployment_key": '), 400],
      ['deploy with a JSON array', () => deploy([good]), 400],
      ['deploy without a body', () => ctx.device.post('/v0.1/public/codepush/report_status/deploy'), 400],
      ['deploy with an oversize body', () => deploy({ ...good, padding: 'x'.repeat(17 * 1024) }), 413],
      ['legacy deploy with a label but no status', () => deploy({ deploymentKey: key, appVersion: '1.0.0', label: '1.0.0' }, '/reportStatus/deploy'), 400],
      ['download without a label', () => ctx.device.post('/v0.1/public/codepush/report_status/download', { deployment_key: key, client_unique_id: 'cp-bad' }), 400],
    ];
    const answers: Array<[string, number]> = [];
    for (const [what, send] of cases) answers.push([what, (await send()).status]);
    expect(answers).toEqual(cases.map(([what, , status]) => [what, status]));

    expect(check).not.toHaveBeenCalled();
    expect(report).not.toHaveBeenCalled();
    const written = await ctx.stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM device_events WHERE app_id = $1', [appId]);
    expect(written.rows[0]!.n).toBe(0);
  });

  it('limits each device through the shared rate limiter, with Retry-After', async () => {
    const appId = 'com.example.codepush.limited';
    await createApp(appId, [['1.0.0']]);
    const key = await deploymentKey(appId);
    const path = `/v0.1/public/codepush/update_check?deployment_key=${key}&app_version=1.0.0&client_unique_id=cp-hammer`;
    const answers = await Promise.all(Array.from({ length: 40 }, () => ctx.device.get(path)));
    const limited = answers.find((a) => a.status === 429);
    expect(limited?.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    await expect(query(sdk(key, 'cp-hammer'), { appVersion: '1.0.0' })).rejects.toThrow(/^429: /);
    expect(await query(sdk(key, 'cp-calm'), { appVersion: '1.0.0' })).toBeNull();
  });
});
