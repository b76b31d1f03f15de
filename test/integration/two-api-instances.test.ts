import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf } from '../../domain/bucketing';
import { SIGNATURE_HEADER } from '../../platform/answer-signing';
import { waitFor } from '../../scripts/support/until';
import { bucketSaltOf, startRelease } from '../support/fixtures';
import { createHttp, type JsonResponse } from '../support/http';
import { startProcessStack, type ProcessStack } from '../support/process-stack';
import type { ApiProcess } from '../support/service-processes';

const appId = 'com.example.two.instances';
const NATIVE_VERSION = '3.0.0';
const full = { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] };
// Stages that hold until a command: each transition happens when the test says so.
const held = {
  stages: [
    { exposureBps: 3000, minSoakMs: 600_000, checkIntervalMs: 1000, gates: [] },
    { exposureBps: 6000, minSoakMs: 600_000, checkIntervalMs: 1000, gates: [] },
    { exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 1000, gates: [] },
  ],
};

/** What an instance serves for a release, as its live release stream opens with it. */
interface Served {
  revision: number;
  status: string;
  stageIndex: number;
}

async function servedBy(api: ApiProcess, releaseId: string, adminKey: string): Promise<Served | null> {
  const res = await fetch(`${api.baseUrl}/v1/releases/${releaseId}/events`, { headers: { authorization: `Bearer ${adminKey}` } });
  if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
  const reader = res.body.getReader();
  let text = '';
  try {
    while (!text.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
  } finally {
    await reader.cancel();
  }
  const data = /^event: hello\ndata: (.*)$/m.exec(text)?.[1];
  if (!data) throw new Error(`no hello event in ${JSON.stringify(text)}`);
  const hello = JSON.parse(data) as Partial<Served>;
  return hello.revision === undefined ? null : { revision: hello.revision, status: hello.status!, stageIndex: hello.stageIndex! };
}

/** A Capgo-style device id (lower-case UUID) whose bucket for the salt lies in [from, to). */
function uuidInBuckets(salt: string, from: number, to: number): string {
  for (;;) {
    const id = randomUUID();
    const bucket = bucketOf(salt, id);
    if (bucket >= from && bucket < to) return id;
  }
}

interface Probe {
  deviceId: string;
  /** The bundle it runs. */
  bundle: string;
}

describe('two API instances on one database and worker', () => {
  let stack: ProcessStack;

  beforeAll(async () => {
    // Every probe asks both instances in three protocols on each poll: no device budget gets in the way.
    // Keys are cached for an hour, so only the revocation's notification can make the other instance refuse one.
    stack = await startProcessStack({
      apis: 2,
      apiEnv: { RAMPART_DEVICE_RATE_PER_SECOND: '10000', RAMPART_DEVICE_RATE_BURST: '100000', RAMPART_API_KEY_CACHE_SECONDS: '3600' },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('refuse a key revoked through either one, although each cached it', async () => {
    const [a, b] = stack.apis as [ApiProcess, ApiProcess];
    const created = await a.admin.post<{ id: string; key: string }>('/v1/api-keys', { name: 'revoked-elsewhere', role: 'viewer' });
    expect(created.status).toBe(201);
    const asViewer = (api: ApiProcess) => createHttp(api.baseUrl, created.body.key).get('/v1/apps');
    expect((await asViewer(a)).status).toBe(200);
    expect((await asViewer(b)).status).toBe(200);

    expect((await a.admin.delete(`/v1/api-keys/${created.body.id}`)).status).toBe(200);
    expect((await asViewer(a)).status).toBe(401);
    await waitFor('the other instance to refuse the revoked key', () => asViewer(b), (res) => res.status === 401, { timeoutMs: 30_000 });
  });

  it('converge on every transition, and a device gets the same answer from either, in every protocol', async () => {
    const [a, b] = stack.apis as [ApiProcess, ApiProcess];
    const key = stack.deployment.adminKey;
    await stack.createApp(appId, ['1.0.0', '1.1.0']);
    const channels = await a.admin.get<{ channels: Array<{ name: string; deploymentKey: string }> }>(`/v1/apps/${appId}/channels`);
    const deploymentKey = channels.body.channels.find((c) => c.name === 'production')!.deploymentKey;

    const answer = (res: JsonResponse) => ({ status: res.status, signature: res.headers.get(SIGNATURE_HEADER), body: res.body as unknown });
    const ask = async (api: ApiProcess, p: Probe) => ({
      native: answer(await api.device.post(`/v1/apps/${appId}/check`, { deviceId: p.deviceId, platform: 'android', nativeVersion: NATIVE_VERSION, bundleVersion: p.bundle })),
      capgo: answer(
        await api.device.post('/updates', {
          platform: 'android',
          device_id: p.deviceId,
          app_id: appId,
          custom_id: '',
          version_build: NATIVE_VERSION,
          version_code: '30000',
          version_os: '13',
          version_name: p.bundle,
          plugin_version: '8.51.23',
          is_emulator: false,
          is_prod: true,
        }),
      ),
      codepush: answer(
        await api.device.get(
          `/v0.1/public/codepush/update_check?${new URLSearchParams({
            deployment_key: deploymentKey,
            app_version: NATIVE_VERSION,
            client_unique_id: p.deviceId,
            ...(p.bundle === 'builtin' ? {} : { label: p.bundle }),
          }).toString()}`,
        ),
      ),
    });
    const askAll = (api: ApiProcess, probes: Probe[]) => Promise.all(probes.map((p) => ask(api, p)));

    /**
     * Both instances serve the release at the expected status and stage (the same revision), and
     * every probe gets the same answer from either, byte for byte (the signature covers the bytes).
     */
    const converge = async (what: string, releaseId: string, expected: Omit<Served, 'revision'>, probes: Probe[]) => {
      await waitFor(
        `both instances to serve the release ${what}`,
        () => Promise.all([servedBy(a, releaseId, key), servedBy(b, releaseId, key)]),
        ([x, y]) => x !== null && y !== null && x.revision === y.revision && x.status === expected.status && x.stageIndex === expected.stageIndex && y.status === expected.status && y.stageIndex === expected.stageIndex,
      );
      const [fromA, fromB] = await waitFor(
        `both instances to answer alike ${what}`,
        () => Promise.all([askAll(a, probes), askAll(b, probes)]),
        ([x, y]) => JSON.stringify(x) === JSON.stringify(y),
        { timeoutMs: 10_000 },
      );
      expect(fromA).toEqual(fromB);
      for (const answers of fromA) for (const protocol of Object.values(answers)) expect(protocol.status).toBe(200);
      return fromA;
    };

    const baseline = await startRelease(a.admin, appId, { version: '1.0.0', plan: full });
    const fresh: Probe = { deviceId: randomUUID(), bundle: 'builtin' };
    const [first] = await converge('completed', baseline, { status: 'completed', stageIndex: 0 }, [fresh]);
    expect(first!.native.body).toMatchObject({ action: 'update', bundle: { version: '1.0.0' } });

    const id = await startRelease(b.admin, appId, { version: '1.1.0', plan: held });
    const salt = await bucketSaltOf(stack, id);
    const canary = { deviceId: uuidInBuckets(salt, 0, 3000), bundle: '1.0.0' };
    const second = { deviceId: uuidInBuckets(salt, 3000, 6000), bundle: '1.0.0' };
    const outside = { deviceId: uuidInBuckets(salt, 6000, 10_000), bundle: '1.0.0' };
    const onNew = { deviceId: canary.deviceId, bundle: '1.1.0' };
    const freshOutside = { deviceId: uuidInBuckets(salt, 6000, 10_000), bundle: 'builtin' };
    const probes = [freshOutside, canary, second, outside, onNew];
    const native = (answers: Array<Awaited<ReturnType<typeof ask>>>) => answers.map((x) => (x.native.body as { action: string; bundle?: { version: string } }).bundle?.version ?? (x.native.body as { action: string }).action);

    // Commands go to either instance; both must follow.
    const started = await converge('started', id, { status: 'running', stageIndex: 0 }, probes);
    expect(native(started)).toEqual(['1.0.0', '1.1.0', 'none', 'none', 'none']);
    // The canary is offered the release in every protocol (not only an equal refusal from both).
    expect(started[1]!.capgo.body).toMatchObject({ version: '1.1.0' });
    expect(started[1]!.codepush.body).toMatchObject({ update_info: { label: '1.1.0', is_available: true } });
    expect((await a.admin.post(`/v1/releases/${id}/promote`, { reason: 'stage 0 looks good' })).status).toBe(200);
    expect(native(await converge('at stage 1', id, { status: 'running', stageIndex: 1 }, probes))).toEqual(['1.0.0', '1.1.0', '1.1.0', 'none', 'none']);
    expect((await b.admin.post(`/v1/releases/${id}/pause`, { reason: 'a look at the dashboards' })).status).toBe(200);
    expect(native(await converge('paused', id, { status: 'paused', stageIndex: 1 }, probes))).toEqual(['1.0.0', '1.1.0', '1.1.0', 'none', 'none']);
    expect((await a.admin.post(`/v1/releases/${id}/resume`, { reason: 'all good' })).status).toBe(200);
    expect(native(await converge('resumed', id, { status: 'running', stageIndex: 1 }, probes))).toEqual(['1.0.0', '1.1.0', '1.1.0', 'none', 'none']);
    expect((await b.admin.post(`/v1/releases/${id}/rollback`, { reason: 'crashes on 1.1.0' })).status).toBe(200);
    const rolledBack = await converge('rolled back', id, { status: 'rolled_back', stageIndex: 1 }, probes);
    // Back to the baseline everywhere: nobody is offered 1.1.0 again, and its devices go back to 1.0.0.
    expect(native(rolledBack).slice(0, 4)).toEqual(['1.0.0', 'none', 'none', 'none']);
    expect(rolledBack[4]!.native.body).toMatchObject({ bundle: { version: '1.0.0' } });
  });
});
