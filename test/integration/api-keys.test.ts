import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createApiMetrics } from '../../api/api-metrics';
import { BOOTSTRAP_KEY_ID, createApiKeyService } from '../../api/services/api-key-service';
import { runCli } from '../../cli/run-cli';
import { createRampartClient } from '../../cli/rampart-client';
import { createStores, createTransactor } from '../../db/create-stores';
import { createSecretBox, newSecretsKey } from '../../platform/secret-box';
import { createRegistry } from '../../platform/metrics';
import { bundleBody, createAppWithBundles } from '../support/fixtures';
import { createHttp, type Http } from '../support/http';
import { useTestStack } from '../support/test-stack';
import { waitFor } from '../../scripts/support/until';

interface CreatedKey {
  id: string;
  key: string;
  lastUsedAt: string | null;
}

describe('API keys', () => {
  const ctx = useTestStack();

  const createKey = async (body: Record<string, unknown>, by: Http = ctx.admin): Promise<CreatedKey & { client: Http }> => {
    const res = await by.post('/v1/api-keys', body);
    if (res.status !== 201) throw new Error(`key: ${res.status} ${JSON.stringify(res.body)}`);
    return { ...(res.body as CreatedKey), client: createHttp(ctx.stack.baseUrl, res.body.key as string) };
  };

  const auditRows = async (where: string, params: unknown[]) =>
    (await ctx.stack.db.pool.query<{ actor: string; action: string; target: string; details: Record<string, unknown> }>(
      `SELECT actor, action, target, details FROM audit_log WHERE ${where} ORDER BY id`,
      params,
    )).rows;

  it('keeps key management and new apps to admin keys for every app', async () => {
    await createAppWithBundles(ctx.admin, 'com.example.keys.a', []);
    await createAppWithBundles(ctx.admin, 'com.example.keys.b', []);
    const scopedAdmin = await createKey({ name: 'team-a-admin', role: 'admin', appIds: ['com.example.keys.a'] });
    const release = await createKey({ name: 'ci', role: 'release' });

    for (const [who, body] of [
      [scopedAdmin.client, { name: 'escalated', role: 'admin' }],
      [scopedAdmin.client, { name: 'same-scope', role: 'viewer', appIds: ['com.example.keys.a'] }],
      [release.client, { name: 'viewer', role: 'viewer' }],
    ] as const) {
      const refused = await who.post('/v1/api-keys', body);
      expect(refused.status).toBe(403);
    }
    expect((await scopedAdmin.client.post('/v1/api-keys', { name: 'x', role: 'admin' })).body.error.message).toMatch(/limited to some apps may not manage keys/);
    expect((await scopedAdmin.client.get('/v1/api-keys')).status).toBe(403);
    expect((await scopedAdmin.client.delete(`/v1/api-keys/${BOOTSTRAP_KEY_ID}`)).status).toBe(403);
    expect((await scopedAdmin.client.delete(`/v1/api-keys/${release.id}`)).status).toBe(403);
    expect((await scopedAdmin.client.post('/v1/apps', { id: 'com.example.keys.c', name: 'Sneaky' })).status).toBe(403);

    // What it is for still works, within its apps only.
    expect((await scopedAdmin.client.post('/v1/apps/com.example.keys.a/bundles', bundleBody('1.0.0'))).status).toBe(201);
    expect((await scopedAdmin.client.post('/v1/apps/com.example.keys.b/bundles', bundleBody('1.0.0'))).status).toBe(404);
    const keys = (await ctx.admin.get('/v1/api-keys')).body.apiKeys as Array<{ id: string; revokedAt: string | null }>;
    expect(keys.find((k) => k.id === BOOTSTRAP_KEY_ID)?.revokedAt).toBeNull();
    expect(keys.map((k) => k.id)).not.toContain(undefined);
    expect(keys.filter((k) => !['bootstrap-admin', scopedAdmin.id, release.id].includes(k.id))).toEqual([]);
  });

  it('audits a key by its id, so a key named like another cannot pose as it', async () => {
    await createAppWithBundles(ctx.admin, 'com.example.keys.pose', []);
    const impostor = await createKey({ name: BOOTSTRAP_KEY_ID, role: 'release' });
    expect((await impostor.client.post('/v1/apps/com.example.keys.pose/bundles', bundleBody('2.0.0'))).status).toBe(201);
    expect(await auditRows('target = $1', ['bundle:com.example.keys.pose@2.0.0'])).toEqual([
      { actor: `key:${impostor.id}`, action: 'bundle.create', target: 'bundle:com.example.keys.pose@2.0.0', details: expect.objectContaining({ keyName: BOOTSTRAP_KEY_ID, keyRole: 'release' }) },
    ]);
    expect(await auditRows('target = $1', [`api_key:${impostor.id}`])).toEqual([
      expect.objectContaining({ actor: `key:${BOOTSTRAP_KEY_ID}`, action: 'api_key.create', details: expect.objectContaining({ name: BOOTSTRAP_KEY_ID, role: 'release', keyName: BOOTSTRAP_KEY_ID }) }),
    ]);
  });

  it('lets keys expire, and says so when an expired key is used', async () => {
    const past = await ctx.admin.post('/v1/api-keys', { name: 'stale', role: 'viewer', expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(past.status).toBe(400);
    expect(past.body.error.message).toMatch(/expiresAt must be in the future/);
    expect((await ctx.admin.post('/v1/api-keys', { name: 'bad', role: 'viewer', expiresAt: 'tomorrow' })).status).toBe(400);

    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const shortLived = await createKey({ name: 'contractor', role: 'viewer', expiresAt });
    expect((await shortLived.client.get('/v1/apps')).status).toBe(200);
    const expired = await waitFor('the key to expire', () => shortLived.client.get('/v1/apps'), (r) => r.status === 401, { timeoutMs: 10_000 });
    expect(expired.body.error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/expired at .*; ask an admin for a new one/) as unknown });
    expect((await ctx.admin.get('/v1/api-keys')).body.apiKeys).toContainEqual(expect.objectContaining({ id: shortLived.id, expiresAt: new Date(expiresAt).toISOString() }));
  });

  it('notes when a key was last used, at most once a minute', async () => {
    const reader = await createKey({ name: 'dashboard', role: 'viewer' });
    expect(reader.lastUsedAt).toBeNull();
    const lastUsed = async () => ((await ctx.admin.get('/v1/api-keys')).body.apiKeys as CreatedKey[]).find((k) => k.id === reader.id)!.lastUsedAt;
    expect((await reader.client.get('/v1/apps')).status).toBe(200);
    const first = await waitFor('lastUsedAt to be set', lastUsed, (at) => at !== null, { timeoutMs: 10_000 });
    for (let i = 0; i < 3; i++) expect((await reader.client.get('/v1/apps')).status).toBe(200);
    expect(await lastUsed()).toBe(first);
  });

  it('rampart keys create, list and revoke', async () => {
    let written = '';
    const cli = (...args: string[]) => runCli(args, () => createRampartClient(ctx.stack.baseUrl, ctx.stack.adminKey), { write: (t) => (written += t), tty: false });
    await cli('keys', 'create', 'oncall-rota', '--role', 'oncall', '--apps', 'com.example.keys.a', '--expires', '30d');
    const [, id] = /created key (\S+)/.exec(written)!;
    const key = /^key (\S+)$/m.exec(written)![1]!;
    expect(written).toMatch(/oncall-rota {2}oncall {2}com\.example\.keys\.a {2}expires \d{4}-/);
    expect((await createHttp(ctx.stack.baseUrl, key).get('/v1/apps')).body.apps).toEqual([expect.objectContaining({ id: 'com.example.keys.a' })]);

    written = '';
    await cli('keys', 'list');
    expect(written).toContain(`${id!}  oncall-rota  oncall`);
    written = '';
    await cli('keys', 'revoke', id!);
    expect(written).toContain(`revoked key ${id!}`);
    const refused = await createHttp(ctx.stack.baseUrl, key).get('/v1/apps');
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/revoked/);
  });

  // Last: it revokes the key every other test signs in with.
  it('keeps a revoked bootstrap key revoked when RAMPART_ADMIN_KEY is applied again, and says how to proceed', async () => {
    const spare = await createKey({ name: 'break-glass', role: 'admin' });
    expect((await spare.client.delete(`/v1/api-keys/${BOOTSTRAP_KEY_ID}`)).status).toBe(200);
    expect((await ctx.admin.get('/v1/apps')).status).toBe(401);

    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    // Keys hold no sealed values: any secrets key will do for the restarted service.
    const secrets = createSecretBox(newSecretsKey());
    const keys = createApiKeyService({
      stores: createStores(ctx.stack.db.pool, secrets),
      transact: createTransactor(ctx.stack.db.pool, secrets),
      metrics: createApiMetrics(createRegistry('restart', false)),
      logger,
    });
    // What the API does when it starts again with the same environment.
    expect(await keys.bootstrap(ctx.stack.adminKey)).toEqual({ generatedKey: null });

    const refused = await ctx.admin.get('/v1/apps');
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/revoked/);
    expect(lines.map((l) => JSON.parse(l) as { level: number; msg: string })).toContainEqual(
      expect.objectContaining({ level: 50, msg: expect.stringMatching(/RAMPART_ADMIN_KEY is not accepted: the bootstrap admin key was revoked.*another admin key for every app/) as unknown }),
    );
    expect((await auditRows('target = $1', [`api_key:${BOOTSTRAP_KEY_ID}`])).map((r) => [r.actor, r.action])).toEqual([
      ['system:bootstrap', 'api_key.bootstrap_created'],
      [`key:${spare.id}`, 'api_key.revoke'],
      ['system:bootstrap', 'api_key.bootstrap_refused'],
    ]);
  });
});
