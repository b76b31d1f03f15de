import { createPublicKey, verify } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bundleBody, createAppWithBundles } from '../support/fixtures';
import { createHttp } from '../support/http';
import { useTestStack } from '../support/test-stack';
import { waitFor } from '../../scripts/support/until';

interface PublishedKey {
  id: string;
  status: 'active' | 'previous';
  publicKey: string;
}

/** Verifies `x-rampart-signature` over the exact body bytes with a published raw Ed25519 key. */
function verifies(header: string | null, body: Buffer, keys: PublishedKey[]): string | null {
  const match = /^ed25519;keyid=([^;]+);sig=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!match) return null;
  const key = keys.find((k) => k.id === match[1]);
  if (!key) return null;
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.publicKey }, format: 'jwk' });
  return verify(null, body, publicKey, Buffer.from(match[2]!, 'base64url')) ? key.id : null;
}

describe('webhooks and integrity', () => {
  // Refuses private receivers, as production does.
  const ctx = useTestStack({ webhooksAllowPrivate: false });

  const raw = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${ctx.stack.baseUrl}${path}`, init);
    return { status: res.status, header: res.headers.get('x-rampart-signature'), body: Buffer.from(await res.arrayBuffer()) };
  };
  const post = (path: string, body: unknown) => raw(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const publishedKeys = async (appId: string) => ((await ctx.device.get(`/v1/apps/${appId}/signing-key`)).body as { keys: PublishedKey[] }).keys;

  it('refuses webhook receivers on loopback, private, link-local and metadata addresses, and plain http', async () => {
    const appId = 'com.example.ssrf';
    await createAppWithBundles(ctx.admin, appId, []);
    for (const url of ['http://127.0.0.1:5432', 'https://127.0.0.1:5432/', 'https://169.254.169.254/latest/meta-data/', 'https://10.0.0.8/', 'https://[::1]/', 'http://hooks.example.com/x']) {
      const res = await ctx.admin.post(`/v1/apps/${appId}/webhooks`, { url });
      expect(res.status, url).toBe(400);
    }
    expect((await ctx.admin.get(`/v1/apps/${appId}/webhooks`)).body.webhooks).toEqual([]);
  });

  it('shows viewers a redacted URL, seals URL and secret at rest, and keeps them out of the audit log', async () => {
    const appId = 'com.example.redact';
    await createAppWithBundles(ctx.admin, appId, []);
    const url = 'https://hooks.slack.com/services/T000/B000/very-secret-token';
    const created = await ctx.admin.post(`/v1/apps/${appId}/webhooks`, { url });
    expect(created.status).toBe(201);
    expect(created.body.url).toBe(url);

    const viewerKey = await ctx.admin.post('/v1/api-keys', { name: 'hooks-viewer', role: 'viewer' });
    const viewer = createHttp(ctx.stack.baseUrl, viewerKey.body.key as string);
    const seen = await viewer.get(`/v1/apps/${appId}/webhooks`);
    expect(seen.body.webhooks).toEqual([expect.objectContaining({ url: 'https://hooks.slack.com/…', urlRedacted: true })]);
    expect(JSON.stringify(seen.body)).not.toContain('very-secret-token');
    expect((await ctx.admin.get(`/v1/apps/${appId}/webhooks`)).body.webhooks[0]).toMatchObject({ url, urlRedacted: false });

    const { rows } = await ctx.stack.db.pool.query<{ url: string; secret: string }>('SELECT url, secret FROM webhooks WHERE id = $1', [created.body.id]);
    expect(rows[0]!.url).toMatch(/^enc:v1:/);
    expect(rows[0]!.url).not.toContain('hooks.slack.com');
    expect(rows[0]!.secret).not.toContain(created.body.secret as string);
    const audit = await ctx.stack.db.pool.query<{ details: unknown }>("SELECT details FROM audit_log WHERE action = 'webhook.create'");
    expect(JSON.stringify(audit.rows)).not.toContain('very-secret-token');
  });

  it('signs the update-check answers of all three protocols with the published key, and rotates with overlap', async () => {
    const appId = 'com.example.signed';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const channels = await ctx.admin.get(`/v1/apps/${appId}/channels`);
    const deploymentKey = (channels.body.channels as Array<{ deploymentKey: string }>)[0]!.deploymentKey;
    const check = () => post(`/v1/apps/${appId}/check`, { deviceId: 'd-1', platform: 'ios', nativeVersion: '3.0.0', bundleVersion: 'builtin' });
    const capgo = () =>
      post('/updates', {
        platform: 'android', device_id: randomUUID(), app_id: appId, custom_id: '', version_build: '3.0.0', version_code: '1',
        version_os: '13', version_name: 'builtin', plugin_version: '8.51.23', is_emulator: false, is_prod: true,
      });
    const codepush = () => raw(`/v0.1/public/codepush/update_check?${new URLSearchParams({ deployment_key: deploymentKey, app_version: '3.0.0', client_unique_id: 'cp-1' }).toString()}`);

    const native = await waitFor('the app is served', check, (r) => r.status === 200);
    const keys = await publishedKeys(appId);
    expect(keys).toHaveLength(1);
    const [active] = keys;
    for (const answer of [native, await capgo(), await codepush()]) {
      expect(answer.status).toBe(200);
      expect(verifies(answer.header, answer.body, keys)).toBe(active!.id);
      // A changed byte no longer verifies.
      expect(verifies(answer.header, Buffer.concat([answer.body, Buffer.from(' ')]), keys)).toBeNull();
    }

    const viewerKey = await ctx.admin.post('/v1/api-keys', { name: 'rotate-viewer', role: 'viewer' });
    expect((await createHttp(ctx.stack.baseUrl, viewerKey.body.key as string).post(`/v1/apps/${appId}/signing-key/rotate`)).status).toBe(403);
    const rotated = await ctx.admin.post(`/v1/apps/${appId}/signing-key/rotate`);
    expect(rotated.status).toBe(200);
    const after = await publishedKeys(appId);
    expect(after.map((k) => k.status)).toEqual(['active', 'previous']);
    expect(after[1]!.id).toBe(active!.id);
    // The old answer still verifies during the overlap; new answers carry the new key.
    expect(verifies(native.header, native.body, after)).toBe(active!.id);
    const fresh = await waitFor('answers signed with the new key', check, (r) => verifies(r.header, r.body, after) === after[0]!.id);
    expect(fresh.status).toBe(200);

    // Past the overlap the previous key is no longer published.
    await ctx.stack.db.pool.query("UPDATE app_signing_keys SET published_until = now() - interval '1 second' WHERE id = $1", [active!.id]);
    expect((await publishedKeys(appId)).map((k) => k.id)).toEqual([after[0]!.id]);
    expect((await ctx.device.get('/v1/apps/com.example.nope/signing-key')).status).toBe(404);
  });

  it('passes a publisher signature and Capgo encryption through, and refuses http bundle URLs unless the app allows them', async () => {
    const appId = 'com.example.bundles';
    await createAppWithBundles(ctx.admin, appId, []);
    const encryptedChecksum = 'ab'.repeat(256);
    const sessionKey = 'aXYxMjM0NTY3ODkwMTI=:ZW5jcnlwdGVkLWFlcy1rZXk=';
    const signature = Buffer.alloc(64, 9).toString('base64');
    const encrypted = await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody('1.0.0', { checksum: encryptedChecksum, sessionKey, signature }));
    expect(encrypted.status).toBe(201);
    expect(encrypted.body).toMatchObject({ encrypted: true, signed: true });
    expect((await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody('1.0.1', { checksum: encryptedChecksum }))).status).toBe(400);
    expect((await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody('1.0.2', { sha256: encryptedChecksum }))).status).toBe(400);
    expect((await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody('1.0.3', { signature: Buffer.alloc(1025).toString('base64') }))).status).toBe(400);

    const http = await ctx.admin.post(`/v1/apps/${appId}/bundles`, bundleBody('1.1.0', { url: 'http://cdn.example.com/1.1.0.zip' }));
    expect(http.status).toBe(400);
    expect(JSON.stringify(http.body)).toMatch(/https/);
    const lax = await ctx.admin.post('/v1/apps', { id: 'com.example.lax', name: 'Lax', allowHttpBundles: true });
    expect(lax.body.allowHttpBundles).toBe(true);
    expect((await ctx.admin.post('/v1/apps/com.example.lax/bundles', bundleBody('1.1.0', { url: 'http://cdn.example.com/1.1.0.zip' }))).status).toBe(201);

    const full = { stages: [{ exposureBps: 10_000, minSoakMs: 0, checkIntervalMs: 100, gates: [] }] };
    const started = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: full });
    expect(started.status).toBe(201);
    const capgo = await waitFor(
      'the encrypted bundle is offered',
      () => ctx.device.post('/updates', {
        platform: 'android', device_id: randomUUID(), app_id: appId, custom_id: '', version_build: '3.0.0', version_code: '1',
        version_os: '13', version_name: 'builtin', plugin_version: '8.51.23', is_emulator: false, is_prod: true,
      }),
      (r) => r.body.version === '1.0.0',
    );
    expect(capgo.body).toMatchObject({ checksum: encryptedChecksum, session_key: sessionKey });
    const native = await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: 'n-1', platform: 'ios', nativeVersion: '3.0.0', bundleVersion: 'builtin' });
    expect(native.body.bundle).toMatchObject({ version: '1.0.0', signature });
  });
});
