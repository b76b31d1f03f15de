import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_KEY_ID } from '../../api/services/api-key-service';
import { runCli } from '../../cli/run-cli';
import { createRampartClient } from '../../cli/rampart-client';
import { bundleBody, createAppWithBundles, startRelease } from '../support/fixtures';
import { createHttp, type Http } from '../support/http';
import { waitForServed } from '../support/rollout-waits';
import { signalWorkflow } from '../support/temporal-cli';
import { useTestStack } from '../support/test-stack';
import { waitFor } from '../../scripts/support/until';
import type { AuditRecord } from '../../db/stores/audit-store';

/** What GET /v1/audit answers per row. */
type Entry = AuditRecord;

// A stage that never ends on its own: every move is a command.
const heldPlan = { stages: [{ exposureBps: 1000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] }, { exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] }] };

describe('the audit log', () => {
  const ctx = useTestStack();
  const appA = 'com.example.audit.a';
  const appB = 'com.example.audit.b';

  const audit = async (query = '', by: Http = ctx.admin): Promise<Entry[]> => {
    const res = await by.get(`/v1/audit${query}`);
    if (res.status !== 200) throw new Error(`audit: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.entries as Entry[];
  };
  const keyFor = async (body: Record<string, unknown>) => {
    const res = await ctx.admin.post('/v1/api-keys', body);
    if (res.status !== 201) throw new Error(`key: ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.id as string, client: createHttp(ctx.stack.baseUrl, res.body.key as string) };
  };
  const listed = (path: string) => async (): Promise<unknown> => (await ctx.admin.get<unknown>(path)).body;
  const authFailures = async () => (await ctx.stack.api.deps.metrics.authFailures.get()).values.reduce((sum, v) => sum + v.value, 0);

  beforeAll(async () => {
    await createAppWithBundles(ctx.admin, appA, ['1.0.0']);
    await createAppWithBundles(ctx.admin, appB, ['1.0.0']);
  });

  it('records failed sign-ins once a minute per address, and counts every one', async () => {
    const before = await authFailures();
    const firstMinute = Math.floor(Date.now() / 60_000);
    for (const key of ['rk_not-a-real-key-at-all', 'short', 'rk_another-made-up-key-000']) {
      expect((await createHttp(ctx.stack.baseUrl, key).get('/v1/apps')).status).toBe(401);
    }
    expect((await ctx.device.get('/v1/apps')).status).toBe(401);
    const minutes = Math.floor(Date.now() / 60_000) - firstMinute + 1;
    expect((await authFailures()) - before).toBe(4);
    const rows = await waitFor('the failed sign-in in the audit log', () => audit('?action=auth.failed'), (r) => r.length > 0, { timeoutMs: 10_000 });
    expect(rows.length).toBeLessThanOrEqual(minutes);
    expect(rows[0]).toMatchObject({ actor: expect.stringMatching(/^address:/) as unknown, target: 'admin_api', details: { reason: 'unknown' } });
  });

  it('records the bootstrap key applied at start-up', async () => {
    expect(await audit(`?target=api_key:${BOOTSTRAP_KEY_ID}`)).toEqual([
      expect.objectContaining({ actor: 'system:bootstrap', action: 'api_key.bootstrap_created', appId: null }),
    ]);
  });

  describe('writes each row in the transaction of the change it records', () => {
    // Fails any audit write that mentions "doomed": the change it records must not land either.
    beforeAll(async () => {
      await ctx.stack.db.pool.query(`
        CREATE FUNCTION refuse_doomed_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.target LIKE '%doomed%' OR NEW.details::text LIKE '%doomed%' THEN RAISE EXCEPTION 'audit refused'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_doomed_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_doomed_audit();`);
    });
    afterAll(async () => {
      await ctx.stack.db.pool.query('DROP TRIGGER refuse_doomed_audit ON audit_log; DROP FUNCTION refuse_doomed_audit();');
    });

    it.each([
      ['an API key', () => ctx.admin.post('/v1/api-keys', { name: 'doomed', role: 'viewer' }), listed('/v1/api-keys')],
      ['an app', () => ctx.admin.post('/v1/apps', { id: 'com.example.doomed', name: 'Doomed' }), listed('/v1/apps')],
      ['a bundle', () => ctx.admin.post(`/v1/apps/${appA}/bundles`, bundleBody('9.9.9-doomed')), listed(`/v1/apps/${appA}/bundles`)],
      ['a channel', () => ctx.admin.post(`/v1/apps/${appA}/channels`, { name: 'doomed' }), listed(`/v1/apps/${appA}/channels`)],
      ['a segment', () => ctx.admin.post(`/v1/apps/${appA}/segments`, { key: 'doomed', rule: { always: true } }), listed(`/v1/apps/${appA}/segments`)],
      [
        'a webhook',
        () => ctx.admin.post(`/v1/apps/${appA}/webhooks`, { url: 'https://doomed.example.com/hook' }),
        listed(`/v1/apps/${appA}/webhooks`),
      ],
    ])('%s', async (_what, create, list) => {
      const res = await create();
      expect(res.status).toBe(500);
      expect(JSON.stringify(await list())).not.toContain('doomed');
    });
  });

  it('records commands the release refused (409), with the reason given', async () => {
    const id = await startRelease(ctx.admin, appA, { version: '1.0.0', plan: heldPlan });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    const refused = await ctx.admin.post(`/v1/releases/${id}/resume`, { reason: 'resume a running release' });
    expect(refused.status).toBe(409);
    expect(await audit(`?target=release:${id}&action=release.command_refused`)).toEqual([
      expect.objectContaining({
        actor: `key:${BOOTSTRAP_KEY_ID}`,
        appId: appA,
        reason: 'resume a running release',
        details: expect.objectContaining({ command: 'resume', code: 'command_refused', keyName: BOOTSTRAP_KEY_ID }) as unknown,
      }),
    ]);

    // A Signal names whatever actor its sender likes: recorded as claimed, not as that key's act.
    await signalWorkflow(`release-${id}`, 'abort', { actor: `key:${BOOTSTRAP_KEY_ID}`, reason: 'from the shell' });
    const aborted = await waitFor('the signalled abort in the audit log', () => audit(`?target=release:${id}&action=release.aborted`), (r) => r.length > 0);
    expect(aborted[0]).toMatchObject({ actor: `key:${BOOTSTRAP_KEY_ID}`, reason: 'from the shell', details: { claimedBy: 'temporal-signal' } });
    expect((await audit(`?target=release:${id}&action=release.started`))[0]!.details).not.toHaveProperty('claimedBy');

    const late = await ctx.admin.post(`/v1/releases/${id}/pause`, { reason: 'too late' });
    expect(late.status).toBe(409);
    expect((await audit(`?target=release:${id}&action=release.command_refused`)).map((e) => e.details.command)).toEqual(['pause', 'resume']);
  });

  it('GET /v1/audit is for admins, filters, and shows a key limited to some apps only those apps', async () => {
    const release = await keyFor({ name: 'ci', role: 'release' });
    expect((await release.client.get('/v1/audit')).status).toBe(403);
    const scoped = await keyFor({ name: 'team-b', role: 'admin', appIds: [appB] });
    expect((await scoped.client.post(`/v1/apps/${appB}/bundles`, bundleBody('2.0.0'))).status).toBe(201);

    const seen = await audit('', scoped.client);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e.appId === appB)).toBe(true);
    expect((await scoped.client.get(`/v1/audit?appId=${appA}`)).status).toBe(404);

    const all = await audit('?limit=500');
    expect(all.map((e) => e.at)).toEqual([...all.map((e) => e.at)].sort().reverse());
    expect(new Set(all.map((e) => e.appId))).toEqual(new Set([null, appA, appB]));
    expect(await audit(`?actor=key:${scoped.id}`)).toEqual([
      expect.objectContaining({ action: 'bundle.create', target: `bundle:${appB}@2.0.0`, details: expect.objectContaining({ keyName: 'team-b', keyRole: 'admin' }) as unknown }),
    ]);
    expect((await audit(`?appId=${appA}&action=bundle.create`)).map((e) => e.target)).toEqual([`bundle:${appA}@1.0.0`]);
    expect(await audit('?limit=2')).toHaveLength(2);
    expect(await audit(`?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    const newest = all[0]!;
    expect((await audit(`?to=${encodeURIComponent(newest.at)}&limit=1`))[0]!.at <= newest.at).toBe(true);

    for (const bad of ['?limit=501', '?limit=0', '?from=yesterday', '?appId=../etc', '?colour=red']) {
      expect((await ctx.admin.get(`/v1/audit${bad}`)).status, bad).toBe(400);
    }
  });

  it('rampart audit', async () => {
    let written = '';
    await runCli(['audit', '--app', appA, '--action', 'bundle.create', '--since', '1h'], () => createRampartClient(ctx.stack.baseUrl, ctx.stack.adminKey), {
      write: (t) => (written += t),
      tty: false,
    });
    expect(written).toMatch(new RegExp(`^\\d{4}-\\S+  key:${BOOTSTRAP_KEY_ID} \\(${BOOTSTRAP_KEY_ID}\\)  bundle\\.create  bundle:${appA.replace(/\./g, '\\.')}@1\\.0\\.0\\n$`));
  });
});
