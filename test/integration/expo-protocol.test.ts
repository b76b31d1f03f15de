import { createHash, verify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMultipartPartWithName, parseMultipartMixedResponseAsync, type MultipartPart } from '@expo/multipart-body-parser';
import { parseDictionary } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import { readExpoExport } from '../../cli/expo-export';
import { createRampartClient } from '../../cli/rampart-client';
import { runCli } from '../../cli/run-cli';
import { bucketOf } from '../../domain/bucketing';
import { bucketSaltOf, deviceInBuckets, deviceIds, startRelease } from '../support/fixtures';
import { writeExpoExport } from '../support/expo-export-fixture';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';
import { waitFor } from '../../scripts/support/until';

// Conformance with Expo Updates v1 (expo/expo docs/pages/technical-specs/expo-updates-1.mdx, version 1,
// updated 2023-03-13). Each test cites the clause it checks. Answers are parsed with Expo's own
// multipart parser (what expo-updates' tooling uses) and signatures verified with Node's crypto
// against the certificate the admin API publishes.

const CDN = 'https://cdn.example.com/expo';
const RUNTIME = '1.0.0';
// What expo-updates sends (it asks for every structure it understands).
const EXPO_ACCEPT = 'multipart/mixed,application/expo+json,application/json';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const stage = (exposureBps: number, minSoakMs: number) => ({ exposureBps, minSoakMs, checkIntervalMs: 100, gates: [] });
const completing = { stages: [stage(10_000, 100)] };
const inFlight = { stages: [stage(1000, 600_000), stage(10_000, 600_000)] };

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  parts: MultipartPart[];
  part(name: string): MultipartPart | undefined;
  json<T = Record<string, unknown>>(name: string): T | undefined;
}

interface Manifest {
  id: string;
  createdAt: string;
  runtimeVersion: string;
  launchAsset: { hash: string; key: string; contentType: string; url: string; fileExtension?: string };
  assets: Array<{ hash: string; key: string; contentType: string; url: string; fileExtension?: string }>;
  metadata: Record<string, string>;
  extra: Record<string, unknown>;
}

const headerOf = (part: MultipartPart, name: string): string | undefined => {
  const value = part.headers.get(name);
  return Array.isArray(value) ? value.join(', ') : value;
};

describe('Expo Updates v1 device protocol', () => {
  const ctx = useTestStack();

  const ask = async (appId: string, headers: Record<string, string | undefined> = {}, method: 'GET' | 'POST' = 'GET'): Promise<Answer> => {
    const sent: Record<string, string> = {};
    for (const [name, value] of Object.entries({ 'expo-protocol-version': '1', accept: EXPO_ACCEPT, 'expo-platform': 'ios', 'expo-runtime-version': RUNTIME, ...headers })) {
      if (value !== undefined) sent[name] = value;
    }
    const res = await fetch(`${ctx.stack.baseUrl}/v1/apps/${appId}/expo/manifest`, { method, headers: sent });
    const body = Buffer.from(await res.arrayBuffer());
    const contentType = res.headers.get('content-type') ?? '';
    const parts = res.status === 200 && contentType.startsWith('multipart/mixed') ? await parseMultipartMixedResponseAsync(contentType, body) : [];
    const part = (name: string) => parts.find((p) => isMultipartPartWithName(p, name));
    return { status: res.status, headers: res.headers, body, parts, part, json: <T,>(name: string) => (part(name) ? (JSON.parse(part(name)!.body) as T) : undefined) };
  };

  const createApp = async (appId: string) => {
    expect((await ctx.admin.post('/v1/apps', { id: appId, name: appId })).status).toBe(201);
    // Devices are answered from the snapshot, which learns of the app through its change feed.
    await waitFor('the snapshot to serve the app', () => Promise.resolve(ctx.stack.api.deps.snapshot.app(appId)), (app) => app !== undefined);
  };

  const addExpoBundle = async (appId: string, version: string, runtimeVersion = RUNTIME, platforms?: Array<'ios' | 'android'>) => {
    const dir = writeExpoExport(`${appId}@${version}`, platforms);
    const res = await ctx.admin.post(`/v1/apps/${appId}/expo/bundles`, readExpoExport(dir, { version, runtimeVersion, baseUrl: `${CDN}/${version}` }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { dir, updates: res.body.updates as Array<{ platform: string; updateId: string; createdAt: string }> };
  };

  const complete = async (appId: string, version: string) => {
    const id = await startRelease(ctx.admin, appId, { version, plan: completing });
    await waitForServed(ctx.stack, id, (r) => r.status === 'completed');
    return id;
  };

  const begin = async (appId: string, version: string, plan = inFlight) => {
    const id = await startRelease(ctx.admin, appId, { version, plan });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    return { id, salt: await bucketSaltOf(ctx.stack, id) };
  };

  const rollBack = async (releaseId: string) => {
    expect((await ctx.admin.post(`/v1/releases/${releaseId}/rollback`, { reason: 'crashes on start' })).status).toBe(200);
    await waitForServed(ctx.stack, releaseId, (r) => r.status === 'rolled_back');
  };

  const certificate = async (appId: string) => {
    const res = await ctx.admin.get(`/v1/apps/${appId}/expo/certificate`);
    expect(res.status).toBe(200);
    return res.body as { keyId: string; algorithm: string; certificatePem: string; codeSigningMetadata: { keyid: string; alg: string } };
  };

  const verifySignature = (signatureHeader: string | undefined | null, body: string, certificatePem: string) => {
    expect(signatureHeader).toBeTruthy();
    const fields = parseDictionary(signatureHeader!);
    const sig = fields.get('sig')?.[0];
    expect(typeof sig).toBe('string');
    expect(fields.get('keyid')?.[0]).toBe('main');
    expect(fields.get('alg')?.[0]).toBe('rsa-v1_5-sha256');
    const cert = new X509Certificate(certificatePem);
    return verify('sha256', Buffer.from(body), cert.publicKey, Buffer.from(sig as string, 'base64'));
  };

  describe('§Request and §Response: errors', () => {
    it('§Response: "A server that wishes to respond with an incompatible response for the requested protocol version SHOULD also respond with an HTTP 406" — a missing or other expo-protocol-version', async () => {
      const appId = 'com.example.expo.protocol';
      await createApp(appId);
      for (const version of [undefined, '0', '2', 'one']) {
        const res = await ask(appId, { 'expo-protocol-version': version });
        expect(res.status).toBe(406);
        expect(JSON.parse(res.body.toString()).error.code).toBe('unsupported_protocol_version');
        expect(res.headers.get('expo-protocol-version')).toBe('1');
      }
    });

    it('§Request 2: "If it is not one of these platforms, the server SHOULD return a 400 or a 404"', async () => {
      const appId = 'com.example.expo.platform';
      await createApp(appId);
      for (const platform of ['web', undefined]) {
        const res = await ask(appId, { 'expo-platform': platform });
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body.toString()).error.details.problems[0].path).toContain('expo-platform');
      }
    });

    it('§Request 3: "expo-runtime-version MUST be a runtime version compatible with the client" — a missing or malformed one is a 400; an unknown one gets no update', async () => {
      const appId = 'com.example.expo.runtime';
      await createApp(appId);
      await addExpoBundle(appId, '1.0.0');
      await complete(appId, '1.0.0');
      for (const runtime of [undefined, 'has space', 'x'.repeat(101)]) {
        const res = await ask(appId, { 'expo-runtime-version': runtime });
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body.toString()).error.details.problems[0].path).toContain('expo-runtime-version');
      }
      // "MUST respond with the most recent update … satisfying all parameters and constraints": none does.
      for (const runtime of ['2.0.0', '1.0', 'exposdk:50.0.0']) {
        const res = await ask(appId, { 'expo-runtime-version': runtime, 'expo-device-id': 'd-unknown-runtime' });
        expect(res.status).toBe(200);
        expect(res.json('directive')).toEqual({ type: 'noUpdateAvailable' });
        expect(res.part('manifest')).toBeUndefined();
      }
    });

    it('§Response: "when an unsupported response structure is requested the server SHOULD respond with an HTTP 406 error status"', async () => {
      const appId = 'com.example.expo.accept';
      await createApp(appId);
      expect((await ask(appId, { accept: 'text/html' })).status).toBe(406);
      expect((await ask(appId, { accept: 'multipart/mixed;q=0, application/json;q=0' })).status).toBe(406);
    });

    it('§Request (code signing): a malformed expo-expect-signature or another algorithm is a 400, never a 5xx', async () => {
      const appId = 'com.example.expo.expect';
      await createApp(appId);
      await certificate(appId);
      for (const value of ['sig, keyid="main', '{}', 'sig, alg="rsa-pss-sha512"', 'sig, alg=ed25519']) {
        const res = await ask(appId, { 'expo-expect-signature': value });
        expect(res.status, value).toBe(400);
        expect(JSON.parse(res.body.toString()).error.details.problems[0].path).toMatch(/^expo-expect-signature/);
      }
      // An app without a key cannot sign: the client is told so instead of getting an unsigned answer.
      const unsigned = 'com.example.expo.nokey';
      await createApp(unsigned);
      const res = await ask(unsigned, { 'expo-expect-signature': 'sig, keyid="main", alg="rsa-v1_5-sha256"' });
      expect(res.status).toBe(409);
      expect(JSON.parse(res.body.toString()).error.code).toBe('code_signing_not_configured');
    });

    it('rejects malformed device ids, channel names and update ids with a 400', async () => {
      const appId = 'com.example.expo.headers';
      await createApp(appId);
      for (const headers of [{ 'expo-device-id': 'has space' }, { 'expo-channel-name': '-bad' }, { 'expo-current-update-id': 'not-a-uuid' }]) {
        expect((await ask(appId, headers)).status).toBe(400);
      }
      expect((await ask('com.example.expo.nosuchapp')).status).toBe(404);
    });
  });

  describe('§Response structures', () => {
    it('§Common Response Headers: expo-protocol-version MUST be 1, expo-sfv-version MUST be 0, cache-control MUST be short (private, max-age=0)', async () => {
      const appId = 'com.example.expo.common';
      await createApp(appId);
      for (const res of [await ask(appId), await ask(appId, {}, 'POST'), await ask(appId, { accept: 'text/html' })]) {
        expect(res.headers.get('expo-protocol-version')).toBe('1');
        expect(res.headers.get('expo-sfv-version')).toBe('0');
        expect(res.headers.get('cache-control')).toBe('private, max-age=0');
      }
    });

    it('§Multipart Response: manifest part with content-disposition inline; name="manifest" and content-type application/json, extensions part likewise, bodies per §Manifest Body and §Extensions Body', async () => {
      const appId = 'com.example.expo.multipart';
      await createApp(appId);
      const { dir, updates } = await addExpoBundle(appId, '1.0.0');
      await complete(appId, '1.0.0');

      const res = await ask(appId, { 'expo-device-id': 'd-multipart' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^multipart\/mixed; boundary=/);
      const manifestPart = res.part('manifest')!;
      expect(headerOf(manifestPart, 'content-disposition')).toBe('inline; name="manifest"');
      expect(headerOf(manifestPart, 'content-type')).toBe('application/json');
      const extensionsPart = res.part('extensions')!;
      expect(headerOf(extensionsPart, 'content-disposition')).toBe('inline; name="extensions"');
      expect(headerOf(extensionsPart, 'content-type')).toBe('application/json');
      expect(res.json('extensions')).toEqual({ assetRequestHeaders: {} });
      expect(res.part('directive')).toBeUndefined();

      const manifest = res.json<Manifest>('manifest')!;
      // "id: The ID MUST uniquely specify the manifest" — expo-updates parses it as a UUID.
      expect(manifest.id).toMatch(UUID);
      expect(manifest.id).toBe(updates.find((u) => u.platform === 'ios')!.updateId);
      expect(new Date(manifest.createdAt).toISOString()).toBe(manifest.createdAt);
      expect(manifest.runtimeVersion).toBe(RUNTIME);
      expect(manifest.metadata).toEqual({});
      expect(manifest.extra).toEqual({});
      // "launchAsset … The fileExtension field will be ignored for this asset and SHOULD be omitted."
      expect(manifest.launchAsset).not.toHaveProperty('fileExtension');
      expect(manifest.launchAsset.contentType).toBe('application/javascript');

      // "hash: Base64URL-encoded SHA-256 hash of the file"; the client MUST verify it against the asset at url.
      const metadata = JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as { fileMetadata: { ios: { bundle: string; assets: Array<{ path: string; ext: string }> } } };
      const fileHash = (relative: string) => createHash('sha256').update(readFileSync(path.join(dir, relative))).digest('base64url');
      expect(manifest.launchAsset).toEqual({
        hash: fileHash(metadata.fileMetadata.ios.bundle),
        key: createHash('md5').update(readFileSync(path.join(dir, metadata.fileMetadata.ios.bundle))).digest('hex'),
        contentType: 'application/javascript',
        url: `${CDN}/1.0.0/${metadata.fileMetadata.ios.bundle}`,
      });
      expect(manifest.assets).toEqual(
        metadata.fileMetadata.ios.assets.map((a) => ({
          hash: fileHash(a.path),
          key: path.basename(a.path),
          contentType: a.ext === 'png' ? 'image/png' : 'font/ttf',
          // "The extension MUST be prefixed with a `.`"
          fileExtension: `.${a.ext}`,
          url: `${CDN}/1.0.0/${a.path}`,
        })),
      );

      // The same answer to POST, and per platform its own manifest.
      expect((await ask(appId, { 'expo-device-id': 'd-multipart' }, 'POST')).json<Manifest>('manifest')).toEqual(manifest);
      const android = (await ask(appId, { 'expo-platform': 'android', 'expo-device-id': 'd-multipart' })).json<Manifest>('manifest')!;
      expect(android.id).toBe(updates.find((u) => u.platform === 'android')!.updateId);
      expect(android.id).not.toBe(manifest.id);
      expect(android.launchAsset.url).toContain('/android/');
    });

    it('§Common Response Headers: "content-type MUST be determined by proactive negotiation" — q values choose application/expo+json or application/json, which carry the manifest alone', async () => {
      const appId = 'com.example.expo.negotiation';
      await createApp(appId);
      await addExpoBundle(appId, '1.0.0');
      await complete(appId, '1.0.0');
      const multipart = (await ask(appId, { 'expo-device-id': 'd-neg' })).json<Manifest>('manifest');

      const expoJson = await ask(appId, { accept: 'application/expo+json;q=0.9, application/json;q=0.8, multipart/mixed;q=0.1', 'expo-device-id': 'd-neg' });
      expect(expoJson.status).toBe(200);
      expect(expoJson.headers.get('content-type')).toMatch(/^application\/expo\+json/);
      expect(JSON.parse(expoJson.body.toString())).toEqual(multipart);
      const plainJson = await ask(appId, { accept: 'application/json', 'expo-device-id': 'd-neg' });
      expect(plainJson.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(plainJson.body.toString())).toEqual(multipart);
      expect((await ask(appId, { accept: '*/*', 'expo-device-id': 'd-neg' })).headers.get('content-type')).toMatch(/^multipart\/mixed/);
    });

    it('§Response: the JSON structures "SHOULD respond with an HTTP 406 error status when the most recent response to be served is not an update"', async () => {
      const appId = 'com.example.expo.jsondirective';
      await createApp(appId);
      const res = await ask(appId, { accept: 'application/expo+json' });
      expect(res.status).toBe(406);
      expect(JSON.parse(res.body.toString()).error.code).toBe('directive_needs_multipart');
    });

    it('§Directive Body: noUpdateAvailable, in a part named "directive" with content-type application/json, for a device on the newest update or with nothing to get', async () => {
      const appId = 'com.example.expo.uptodate';
      await createApp(appId);
      const nothing = await ask(appId, { 'expo-device-id': 'd-nothing' });
      const directive = nothing.part('directive')!;
      expect(headerOf(directive, 'content-disposition')).toBe('inline; name="directive"');
      expect(headerOf(directive, 'content-type')).toBe('application/json');
      expect(JSON.parse(directive.body)).toEqual({ type: 'noUpdateAvailable' });

      const { updates } = await addExpoBundle(appId, '1.0.0');
      await complete(appId, '1.0.0');
      const current = updates.find((u) => u.platform === 'ios')!.updateId;
      const embedded = '00000000-0000-4000-8000-000000000001';
      expect((await ask(appId, { 'expo-device-id': 'd-current', 'expo-embedded-update-id': embedded, 'expo-current-update-id': embedded })).json<Manifest>('manifest')?.id).toBe(current);
      const upToDate = await ask(appId, { 'expo-device-id': 'd-current', 'expo-embedded-update-id': embedded, 'expo-current-update-id': current.toUpperCase() });
      expect(upToDate.parts.map((p) => p.name)).toEqual(['directive']);
      expect(upToDate.json('directive')).toEqual({ type: 'noUpdateAvailable' });
    });

    it('§Response: "MUST respond with the most recent update, ordered by creation time, satisfying all parameters and constraints" — newest completed release, matching runtime version and platform only', async () => {
      const appId = 'com.example.expo.newest';
      await createApp(appId);
      const first = await addExpoBundle(appId, '1.0.0');
      await complete(appId, '1.0.0');
      const second = await addExpoBundle(appId, '1.1.0');
      await complete(appId, '1.1.0');
      const manifest = (await ask(appId, { 'expo-device-id': 'd-newest' })).json<Manifest>('manifest')!;
      expect(manifest.id).toBe(second.updates.find((u) => u.platform === 'ios')!.updateId);
      expect(Date.parse(manifest.createdAt)).toBeGreaterThan(Date.parse(first.updates[0]!.createdAt));

      // A runtime version plays the native range: a fingerprint runtime gets only its own bundles, and
      // the 1.0.0 runtime keeps the newest update made for it (the new release's baseline).
      const fingerprint = 'a3f1c0ffee5e7d1b2c4d6e8f0a1b3c5d7e9f1a2b';
      const forFingerprint = await addExpoBundle(appId, '2.0.0', fingerprint, ['android']);
      await complete(appId, '2.0.0');
      expect((await ask(appId, { 'expo-device-id': 'd-newest' })).json<Manifest>('manifest')?.id).toBe(manifest.id);
      expect((await ask(appId, { 'expo-device-id': 'd-newest', 'expo-current-update-id': manifest.id })).json('directive')).toEqual({ type: 'noUpdateAvailable' });
      expect((await ask(appId, { 'expo-device-id': 'd-newest', 'expo-runtime-version': fingerprint })).json('directive')).toEqual({ type: 'noUpdateAvailable' });
      const android = (await ask(appId, { 'expo-device-id': 'd-newest', 'expo-runtime-version': fingerprint, 'expo-platform': 'android' })).json<Manifest>('manifest')!;
      expect(android).toMatchObject({ id: forFingerprint.updates[0]!.updateId, runtimeVersion: fingerprint });
    });
  });

  describe('assignment: the same decision as every protocol', () => {
    it('a release moving from 10 % to 100 % serves the new manifest to exactly its canary buckets, then to every device', async () => {
      const appId = 'com.example.expo.staged';
      await createApp(appId);
      const old = await addExpoBundle(appId, '1.0.0');
      await complete(appId, '1.0.0');
      const next = await addExpoBundle(appId, '1.1.0');
      const { id, salt } = await begin(appId, '1.1.0');
      const oldId = old.updates.find((u) => u.platform === 'ios')!.updateId;
      const nextId = next.updates.find((u) => u.platform === 'ios')!.updateId;

      const fleet = deviceIds(200, 'expo-fleet');
      const served = async () => {
        const ids = await Promise.all(fleet.map(async (deviceId) => (await ask(appId, { 'expo-device-id': deviceId, 'expo-current-update-id': oldId })).json<Manifest>('manifest')?.id ?? 'none'));
        return new Map(fleet.map((d, i) => [d, ids[i]]));
      };
      const atTen = await served();
      for (const deviceId of fleet) expect(atTen.get(deviceId), deviceId).toBe(bucketOf(salt, deviceId) < 1000 ? nextId : 'none');
      expect([...atTen.values()].filter((v) => v === nextId).length).toBeGreaterThan(5);

      expect((await ctx.admin.post(`/v1/releases/${id}/promote`, { reason: 'looks good' })).status).toBe(200);
      await waitForServed(ctx.stack, id, (r) => r.stageIndex === 1);
      const atFull = await served();
      expect(new Set(atFull.values())).toEqual(new Set([nextId]));
    });

    it('a device without expo-device-id (header or extra param) is never a canary, even at full exposure', async () => {
      const appId = 'com.example.expo.anonymous';
      await createApp(appId);
      await addExpoBundle(appId, '1.0.0');
      await begin(appId, '1.0.0', { stages: [stage(10_000, 600_000)] });
      expect((await ask(appId, { 'expo-device-id': 'known' })).part('manifest')).toBeDefined();
      // What Updates.setExtraParamAsync('device-id', …) makes expo-updates send.
      expect((await ask(appId, { 'expo-extra-params': 'device-id="known-too", tier="pro"' })).part('manifest')).toBeDefined();
      expect((await ask(appId)).json('directive')).toEqual({ type: 'noUpdateAvailable' });
      expect((await ask(appId, { 'expo-extra-params': 'tier="pro"' })).json('directive')).toEqual({ type: 'noUpdateAvailable' });
      expect((await ask(appId, { 'expo-extra-params': 'device-id="unterminated' })).status).toBe(400);
    });

    it('after a rollback: the previous manifest re-issued newer than the withdrawn one, or rollBackToEmbedded when there is no earlier update', async () => {
      const appId = 'com.example.expo.rollback';
      await createApp(appId);
      const good = await addExpoBundle(appId, '1.0.0');
      await complete(appId, '1.0.0');
      const bad = await addExpoBundle(appId, '1.1.0');
      const release = await begin(appId, '1.1.0');
      const canary = deviceInBuckets(release.salt, 0, 1000, 'expo');
      const goodId = good.updates.find((u) => u.platform === 'ios')!.updateId;
      const badId = bad.updates.find((u) => u.platform === 'ios')!.updateId;
      const offered = (await ask(appId, { 'expo-device-id': canary, 'expo-current-update-id': goodId })).json<Manifest>('manifest')!;
      expect(offered.id).toBe(badId);
      // Registered before the rollback, released after it.
      const later = await addExpoBundle(appId, '1.2.0');

      await rollBack(release.id);
      const back = (await ask(appId, { 'expo-device-id': canary, 'expo-current-update-id': badId })).json<Manifest>('manifest')!;
      const original = (await ask(appId, { 'expo-device-id': 'never-canary', 'expo-current-update-id': badId })).json<Manifest>('manifest')!;
      // The client launches the most recently created update it holds: the way back must be newer.
      expect(back.id).not.toBe(goodId);
      expect(back.id).toMatch(UUID);
      expect(Date.parse(back.createdAt)).toBeGreaterThan(Date.parse(offered.createdAt));
      expect({ ...back, id: goodId, createdAt: good.updates[0]!.createdAt }).toEqual({ ...original, id: goodId, createdAt: good.updates[0]!.createdAt });
      // Stable: the same re-issue on every request, and the device on it is up to date.
      expect((await ask(appId, { 'expo-device-id': canary, 'expo-current-update-id': badId })).json<Manifest>('manifest')).toEqual(back);
      expect((await ask(appId, { 'expo-device-id': canary, 'expo-current-update-id': back.id })).json('directive')).toEqual({ type: 'noUpdateAvailable' });

      // The next release's bundle is older than the re-issue the device runs: it is re-issued as made
      // when its release started, else expo-updates would keep the re-issue.
      const laterId = later.updates.find((u) => u.platform === 'ios')!.updateId;
      await begin(appId, '1.2.0', { stages: [stage(10_000, 600_000)] });
      const onward = (await ask(appId, { 'expo-device-id': canary, 'expo-current-update-id': back.id })).json<Manifest>('manifest')!;
      expect(onward.id).not.toBe(laterId);
      expect(Date.parse(onward.createdAt)).toBeGreaterThan(Date.parse(back.createdAt));
      expect(onward.launchAsset.url).toContain('/1.2.0/');
      expect((await ask(appId, { 'expo-device-id': canary, 'expo-current-update-id': onward.id })).json('directive')).toEqual({ type: 'noUpdateAvailable' });
      // A device that never left the older update gets the bundle's own manifest.
      expect((await ask(appId, { 'expo-device-id': canary, 'expo-current-update-id': goodId })).json<Manifest>('manifest')?.id).toBe(laterId);

      const firstAppId = 'com.example.expo.rollbackfirst';
      await createApp(firstAppId);
      const only = await addExpoBundle(firstAppId, '2.0.0');
      const first = await begin(firstAppId, '2.0.0');
      const deviceId = deviceInBuckets(first.salt, 0, 1000, 'expo');
      const onlyId = only.updates.find((u) => u.platform === 'ios')!.updateId;
      expect((await ask(firstAppId, { 'expo-device-id': deviceId })).json<Manifest>('manifest')?.id).toBe(onlyId);
      await rollBack(first.id);
      const directive = (await ask(firstAppId, { 'expo-device-id': deviceId, 'expo-current-update-id': onlyId })).json<{ type: string; parameters: { commitTime: string } }>('directive')!;
      expect(directive.type).toBe('rollBackToEmbedded');
      // expo-updates applies the directive only when it is newer than the update it runs.
      expect(Date.parse(directive.parameters.commitTime)).toBeGreaterThan(Date.parse(only.updates[0]!.createdAt));
    });
  });

  describe('rampart bundles add --expo', () => {
    it('registers an expo export directory through the CLI; devices get its manifest once released', async () => {
      const appId = 'com.example.expo.cli';
      await createApp(appId);
      const dir = writeExpoExport('cli', ['android']);
      let printed = '';
      await runCli(
        ['bundles', 'add', appId, '3.0.0', '--expo', dir, '--runtime-version', 'exposdk:50.0.0', '--base-url', `${CDN}/3.0.0/`],
        () => createRampartClient(ctx.stack.baseUrl, ctx.stack.adminKey),
        { write: (text) => (printed += text), tty: false },
      );
      expect(printed).toMatch(/^added Expo bundle 3\.0\.0 for runtime exposdk:50\.0\.0\n {2}android +update [0-9a-f-]{36}\n$/);
      const listed = (await ctx.admin.get(`/v1/apps/${appId}/expo/bundles`)).body.updates as Array<{ updateId: string; platform: string }>;
      expect(listed.map((u) => u.platform)).toEqual(['android']);
      await complete(appId, '3.0.0');
      const manifest = (await ask(appId, { 'expo-platform': 'android', 'expo-runtime-version': 'exposdk:50.0.0', 'expo-device-id': 'd-cli' })).json<Manifest>('manifest')!;
      expect(manifest.id).toBe(listed[0]!.updateId);
      expect(manifest.launchAsset.url.startsWith(`${CDN}/3.0.0/_expo/static/js/android/`)).toBe(true);
    });
  });

  describe('§Code Signing', () => {
    it('signs the manifest part with the app key when asked (expo-signature: sig, keyid, alg); the published self-signed certificate verifies it', async () => {
      const appId = 'com.example.expo.signing';
      await createApp(appId);
      await addExpoBundle(appId, '1.0.0');
      await complete(appId, '1.0.0');
      const cert = await certificate(appId);
      expect(cert).toMatchObject({ keyId: 'main', algorithm: 'rsa-v1_5-sha256', codeSigningMetadata: { keyid: 'main', alg: 'rsa-v1_5-sha256' } });
      expect((await certificate(appId)).certificatePem).toBe(cert.certificatePem);

      // "The client MUST verify that the signing certificate is either a self-signed, trusted root certificate…"
      // (checkIssued would insist on keyCertSign, which a code-signing leaf rightly lacks.)
      const x509 = new X509Certificate(cert.certificatePem);
      expect(x509.issuer).toBe(x509.subject);
      expect(x509.verify(x509.publicKey)).toBe(true);
      // The code-signing extended key usage expo-updates requires.
      expect(x509.keyUsage).toContain('1.3.6.1.5.5.7.3.3');
      expect(Date.parse(x509.validTo)).toBeGreaterThan(Date.now());

      const signed = await ask(appId, { 'expo-device-id': 'd-signed', 'expo-expect-signature': 'sig, keyid="main", alg="rsa-v1_5-sha256"' });
      const manifestPart = signed.part('manifest')!;
      expect(verifySignature(headerOf(manifestPart, 'expo-signature'), manifestPart.body, cert.certificatePem)).toBe(true);
      expect(verifySignature(headerOf(manifestPart, 'expo-signature'), `${manifestPart.body} `, cert.certificatePem)).toBe(false);
      // Not asked, not signed.
      expect(headerOf((await ask(appId, { 'expo-device-id': 'd-signed' })).part('manifest')!, 'expo-signature')).toBeUndefined();

      // Directives are signed too, and the JSON structure carries the signature as a response header.
      const directive = (await ask(appId, { 'expo-device-id': 'd-signed', 'expo-runtime-version': '9.9.9', 'expo-expect-signature': 'sig' })).part('directive')!;
      expect(verifySignature(headerOf(directive, 'expo-signature'), directive.body, cert.certificatePem)).toBe(true);
      const json = await ask(appId, { accept: 'application/expo+json', 'expo-device-id': 'd-signed', 'expo-expect-signature': 'sig' });
      expect(verifySignature(json.headers.get('expo-signature'), json.body.toString(), cert.certificatePem)).toBe(true);
    });
  });

  describe('telemetry by update id', () => {
    it('attributes install_ok, boot_failed, crash and sessions posted with the update id to the bundle and the release in flight', async () => {
      const appId = 'com.example.expo.events';
      await createApp(appId);
      const { updates } = await addExpoBundle(appId, '1.0.0');
      const release = await begin(appId, '1.0.0', { stages: [stage(10_000, 600_000)] });
      const updateId = updates.find((u) => u.platform === 'ios')!.updateId;
      const now = new Date().toISOString();
      const res = await ctx.device.post(`/v1/apps/${appId}/expo/events`, {
        deviceId: 'expo-reporter',
        platform: 'ios',
        runtimeVersion: RUNTIME,
        events: [
          { type: 'install_ok', at: now, updateId },
          { type: 'session_start', at: now, updateId: updateId.toUpperCase() },
          { type: 'session_end', at: now, updateId, durationMs: 1200 },
          { type: 'crash', at: now, updateId, message: 'TypeError' },
          { type: 'boot_failed', at: now, updateId },
          // On the embedded update: not the release's bundle.
          { type: 'js_error', at: now, updateId: null },
        ],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const { rows } = await ctx.stack.db.pool.query<{ type: string; bundle_version: string; release_id: string | null; cohort: string }>(
        'SELECT type, bundle_version, release_id, cohort FROM device_events WHERE app_id = $1 AND device_id = $2 ORDER BY report_id, seq',
        [appId, 'expo-reporter'],
      );
      expect(rows.map((r) => [r.type, r.bundle_version, r.release_id, r.cohort])).toEqual([
        ['install_ok', '1.0.0', release.id, 'canary'],
        ['session_start', '1.0.0', release.id, 'canary'],
        ['session_end', '1.0.0', release.id, 'canary'],
        ['crash', '1.0.0', release.id, 'canary'],
        ['boot_failed', '1.0.0', release.id, 'canary'],
        ['js_error', 'builtin', release.id, 'none'],
      ]);

      const bad = await ctx.device.post(`/v1/apps/${appId}/expo/events`, { deviceId: 'x', platform: 'ios', runtimeVersion: RUNTIME, events: [{ type: 'nope', at: now, updateId }] });
      expect(bad.status).toBe(400);
    });
  });
});
