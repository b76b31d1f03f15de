import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/support/until';
import { createAppWithBundles, sha256Of, startRelease } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

const completing = { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] };

describe('reverting a completed release', () => {
  const ctx = useTestStack();

  const complete = async (appId: string, version: string) => {
    const id = await startRelease(ctx.admin, appId, { version, plan: completing });
    await waitForServed(ctx.stack, id, (r) => r.status === 'completed');
    return id;
  };
  const deploymentKey = async (appId: string): Promise<string> => {
    const res = await ctx.admin.get(`/v1/apps/${appId}/channels`);
    return (res.body.channels as Array<{ name: string; deploymentKey: string }>).find((c) => c.name === 'production')!.deploymentKey;
  };
  /** The same device asking in each protocol, running `version`. */
  const answers = async (appId: string, version: string) => {
    const native = await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: 'revert-native', platform: 'android', nativeVersion: '3.0.0', bundleVersion: version });
    const capgo = await ctx.device.post('/updates', {
      platform: 'android',
      device_id: randomUUID(),
      app_id: appId,
      custom_id: '',
      version_build: '3.0.0',
      version_code: '30000',
      version_os: '13',
      version_name: version,
      plugin_version: '8.51.23',
      is_emulator: false,
      is_prod: true,
    });
    const params = new URLSearchParams({ deployment_key: await deploymentKey(appId), app_version: '3.0.0', label: version, client_unique_id: 'revert-codepush' });
    const codepush = await ctx.device.get<{ update_info: Record<string, unknown> }>(`/v0.1/public/codepush/update_check?${params.toString()}`);
    return { native: native.body as unknown, capgo: capgo.body as unknown, codepush: codepush.body.update_info };
  };

  it('withdraws the channel latest completed release in all three protocols, audited and announced, and refuses an older one', async () => {
    const appId = 'com.example.revert';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '1.1.0']);
    const received: Array<{ event: string; id: string; release: { id: string }; transition: { from: string } }> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as (typeof received)[number]);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      await ctx.admin.post(`/v1/apps/${appId}/webhooks`, { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, events: ['rolled_back'] });
      const older = await complete(appId, '1.0.0');
      const latest = await complete(appId, '1.1.0');
      expect((await answers(appId, '1.1.0')).native).toMatchObject({ action: 'none' });

      const refused = await ctx.admin.post(`/v1/releases/${older}/rollback`, { reason: 'wrong one' });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({
        code: 'not_latest_release',
        message: expect.stringContaining(`release ${latest} (1.1.0, completed) came after it`),
        details: { latestReleaseId: latest, latestVersion: '1.1.0', latestStatus: 'completed' },
      });

      const reverted = await ctx.admin.post(`/v1/releases/${latest}/rollback`, { reason: 'checkout broken since 1.1.0' });
      expect(reverted.status).toBe(200);
      expect(reverted.body).toMatchObject({ id: latest, status: 'rolled_back', exposure: { default: 0 }, reason: 'checkout broken since 1.1.0' });
      expect(reverted.body.history.at(-1)).toMatchObject({ event: 'rolled_back', from: 'completed', to: 'rolled_back' });
      await waitForServed(ctx.stack, latest, (r) => r.status === 'rolled_back');

      const back = await answers(appId, '1.1.0');
      expect(back.native).toMatchObject({ action: 'rollback', bundle: { version: '1.0.0' }, releaseId: latest });
      expect(back.capgo).toMatchObject({ version: '1.0.0', checksum: sha256Of('1.0.0') });
      expect(back.codepush).toMatchObject({ is_available: true, label: '1.0.0', is_mandatory: true });
      // Devices already on the baseline stay there.
      expect((await answers(appId, '1.0.0')).native).toMatchObject({ action: 'none' });

      const shown = await ctx.admin.get(`/v1/releases/${latest}`);
      expect(shown.body).toMatchObject({ status: 'rolled_back', exposure: { default: 0 } });
      expect(shown.body.history.map((t: { event: string }) => t.event)).toEqual(['started', 'stage_started', 'completed', 'rolled_back']);
      const audit = await ctx.stack.db.pool.query<{ actor: string; details: { from: string } }>(
        `SELECT actor, details FROM audit_log WHERE target = $1 AND action = 'release.rolled_back'`,
        [`release:${latest}`],
      );
      expect(audit.rows).toEqual([expect.objectContaining({ details: expect.objectContaining({ from: 'completed' }) })]);
      await waitFor('the rolled_back webhook', () => Promise.resolve(received.length), (n) => n > 0);
      expect(received).toEqual([expect.objectContaining({ event: 'rolled_back', id: `${latest}:4`, release: expect.objectContaining({ id: latest }), transition: expect.objectContaining({ from: 'completed' }) })]);

      const twice = await ctx.admin.post(`/v1/releases/${latest}/rollback`, { reason: 'again' });
      expect(twice.status).toBe(409);
      expect(twice.body.error.code).toBe('release_finished');
      const again = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.1.0', plan: completing });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('version_rolled_back');
    } finally {
      receiver.close();
    }
  });

  it('sends devices back to the bundle in their binary when the reverted release had no baseline', async () => {
    const appId = 'com.example.revert.first';
    await createAppWithBundles(ctx.admin, appId, ['2.0.0']);
    const id = await complete(appId, '2.0.0');
    expect((await ctx.admin.post(`/v1/releases/${id}/rollback`, { reason: 'white screen on start' })).status).toBe(200);
    await waitForServed(ctx.stack, id, (r) => r.status === 'rolled_back');

    const back = await answers(appId, '2.0.0');
    expect(back.native).toEqual({ action: 'rollback', bundle: null, releaseId: id });
    expect(back.capgo).toEqual({ version: 'builtin' });
    expect(back.codepush).toMatchObject({ is_available: false, should_run_binary_version: true });
  });
});
