import { describe, expect, it } from 'vitest';
import { createAppWithBundles } from '../support/fixtures';
import { createHttp, type Http } from '../support/http';
import { useTestStack } from '../support/test-stack';

// Long soaks: the releases stay active for the whole test, and each test aborts its own.
const staged = {
  stages: [
    { exposureBps: 500, minSoakMs: 600_000, checkIntervalMs: 1000 },
    { exposureBps: 10_000, minSoakMs: 600_000 },
  ],
};
const gateless = { stages: [{ exposureBps: 500, minSoakMs: 600_000, gates: [] }, { exposureBps: 10_000, minSoakMs: 1000 }] };
const dryRun = { ...staged, gateSettings: { dryRun: true } };
const straightToFull = { stages: [{ exposureBps: 10_000, minSoakMs: 600_000 }] };

describe('app policy: who may disable gates, dry-run and skip stages', () => {
  const ctx = useTestStack();

  const keyFor = async (role: string): Promise<Http> => {
    const created = await ctx.admin.post('/v1/api-keys', { name: `policy-${role}`, role });
    expect(created.status).toBe(201);
    return createHttp(ctx.stack.baseUrl, created.body.key as string);
  };

  const abort = async (id: string) => {
    expect((await ctx.admin.post(`/v1/releases/${id}/abort`, { reason: 'test done' })).status).toBe(200);
  };

  it('refuses the release role a plan that disables gates, dry-runs or skips stages, naming the policy and who may', async () => {
    const appId = 'com.example.policy.release';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const release = await keyFor('release');

    for (const [plan, policy, where] of [
      [gateless, 'disable_gates', /stages\[0\]\.gates: stage "stage 1" has no gates/],
      [dryRun, 'dry_run', /gateSettings\.dryRun/],
      [straightToFull, 'skip_stages', /segment "default" goes to 100 % in its first stage/],
    ] as const) {
      const refused = await release.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'forbidden', details: { policy, allowedRoles: ['admin', 'oncall'], role: 'release' } });
      expect(refused.body.error.message).toMatch(new RegExp(`^policy "${policy}" of app ${appId.replace(/\./g, '\\.')}: only admin, oncall may`));
      expect(refused.body.error.message).toMatch(where);
    }

    const ok = await release.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: staged });
    expect(ok.status).toBe(201);
    await abort(ok.body.id as string);
  });

  it('always allows presets, and lets an admin start anything under the default policy', async () => {
    const appId = 'com.example.policy.presets';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '1.1.0']);
    // A windowed segment goes to 100 % in its own window stage: the preset is allowed all the same.
    const windowed = { key: 'enterprise', rule: { attribute: 'attributes.plan', op: 'eq', value: 'enterprise' }, maintenanceWindows: [{ days: [6], start: '02:00', end: '04:00', timeZone: 'UTC' }] };
    expect((await ctx.admin.post(`/v1/apps/${appId}/segments`, windowed)).status).toBe(201);
    const release = await keyFor('release');
    const preset = await release.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: 'default' });
    expect(preset.status).toBe(201);
    const byAdmin = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.1.0', plan: { ...straightToFull, gateSettings: { dryRun: true } }, supersede: true });
    expect(byAdmin.status).toBe(201);
    await abort(byAdmin.body.id as string);
  });

  it('keeps a policy per app: GET and PUT by admins only, audited, applied to the next start', async () => {
    const appId = 'com.example.policy.custom';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const release = await keyFor('release');

    const initial = await ctx.admin.get(`/v1/apps/${appId}/policy`);
    expect(initial.status).toBe(200);
    expect(initial.body).toEqual({ appId, disable_gates: ['admin', 'oncall'], dry_run: ['admin', 'oncall'], skip_stages: ['admin', 'oncall'], updatedBy: null, updatedAt: null });
    expect((await release.get(`/v1/apps/${appId}/policy`)).status).toBe(403);
    expect((await release.put(`/v1/apps/${appId}/policy`, { skip_stages: ['admin', 'release'] })).status).toBe(403);
    const bad = await ctx.admin.put(`/v1/apps/${appId}/policy`, { skip_stages: ['root'] });
    expect(bad.status).toBe(400);

    const put = await ctx.admin.put(`/v1/apps/${appId}/policy`, { skip_stages: ['admin', 'release'] });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ disable_gates: ['admin', 'oncall'], dry_run: ['admin', 'oncall'], skip_stages: ['admin', 'release'], updatedBy: 'key:bootstrap-admin' });
    const { rows } = await ctx.stack.db.pool.query<{ details: Record<string, unknown> }>(`SELECT details FROM audit_log WHERE action = 'app.policy' AND target = $1`, [`app:${appId}`]);
    // Every audit row also names the key (keyName, keyRole).
    expect(rows.map((r) => r.details)).toEqual([expect.objectContaining({ disable_gates: ['admin', 'oncall'], dry_run: ['admin', 'oncall'], skip_stages: ['admin', 'release'] })]);

    const started = await release.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: straightToFull });
    expect(started.status).toBe(201);
    const stillGated = await release.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: { ...straightToFull, gateSettings: { dryRun: true } }, supersede: true });
    expect(stillGated.status).toBe(403);
    expect(stillGated.body.error.details.policy).toBe('dry_run');
    await abort(started.body.id as string);
  });
});

describe('configuration changes that would move an active release’s population', () => {
  const ctx = useTestStack();

  const keyFor = async (role: string): Promise<Http> => {
    const created = await ctx.admin.post('/v1/api-keys', { name: `guard-${role}`, role });
    return createHttp(ctx.stack.baseUrl, created.body.key as string);
  };

  it('refuses segment rule, priority, creation and deletion with 409 naming the release, unless an admin forces it (audited)', async () => {
    const appId = 'com.example.guard.segments';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    expect((await ctx.admin.post(`/v1/apps/${appId}/segments`, { key: 'power', rule: { attribute: 'sessionsLast7d', op: 'gte', value: 20 } })).status).toBe(201);
    expect((await ctx.admin.post(`/v1/apps/${appId}/segments`, { key: 'spare', rule: { attribute: 'platform', op: 'eq', value: 'ios' } })).status).toBe(201);
    const started = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: { stages: [{ segments: ['power', 'default'], exposureBps: 500, minSoakMs: 600_000 }, { exposureBps: 10_000, minSoakMs: 1000 }] } });
    expect(started.status).toBe(201);
    const releaseId = started.body.id as string;
    const named = new RegExp(`release ${releaseId} \\(1\\.0\\.0, (pending|running) on production\\)`);

    const refusedAsMoving = async (attempt: Promise<{ status: number; body: any }>) => {
      const refused = await attempt;
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'release_population_change', details: { releaseIds: [releaseId] } });
      expect(refused.body.error.message).toMatch(named);
      expect(refused.body.error.message).toMatch(/"force": true/);
    };
    const night = { key: 'night', rule: { attribute: 'platform', op: 'eq', value: 'android' } };
    await refusedAsMoving(ctx.admin.put(`/v1/apps/${appId}/segments/power`, { rule: { attribute: 'sessionsLast7d', op: 'gte', value: 5 } }));
    await refusedAsMoving(ctx.admin.put(`/v1/apps/${appId}/segments/power`, { priority: 1 }));
    await refusedAsMoving(ctx.admin.post(`/v1/apps/${appId}/segments`, night));
    // Every plan names every segment it knew at its start, so deleting one of those stays refused, forced or not.
    const inPlan = await ctx.admin.delete(`/v1/apps/${appId}/segments/spare?force=true`);
    expect(inPlan.body.error).toMatchObject({ code: 'segment_in_use', details: { releaseIds: [releaseId] } });
    // Maintenance windows only decide when a segment is exposed, and the workflow keeps the ones it started with.
    const windows = await ctx.admin.put(`/v1/apps/${appId}/segments/spare`, { maintenanceWindows: [{ days: [0], start: '01:00', end: '02:00', timeZone: 'UTC' }] });
    expect(windows.status).toBe(200);

    const configurer = await keyFor('release');
    const notAdmin = await configurer.put(`/v1/apps/${appId}/segments/power`, { priority: 1, force: true });
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body.error.message).toMatch(/role "release" may not force/);

    expect((await ctx.admin.put(`/v1/apps/${appId}/segments/power`, { priority: 1, force: true })).body).toMatchObject({ key: 'power', priority: 1 });
    expect((await ctx.admin.post(`/v1/apps/${appId}/segments`, { ...night, force: true })).status).toBe(201);
    await refusedAsMoving(ctx.admin.delete(`/v1/apps/${appId}/segments/night`));
    expect((await ctx.admin.delete(`/v1/apps/${appId}/segments/night?force=true`)).status).toBe(204);
    const { rows } = await ctx.stack.db.pool.query<{ action: string; details: Record<string, unknown> }>(
      `SELECT action, details FROM audit_log WHERE target = $1 AND action LIKE 'segment.%' ORDER BY id`,
      [`app:${appId}`],
    );
    expect(rows.map((r) => [r.action, r.details.segment, r.details.forcedPastReleases ?? null])).toEqual([
      ['segment.create', 'power', null],
      ['segment.create', 'spare', null],
      ['segment.update', 'spare', null],
      ['segment.update', 'power', [releaseId]],
      ['segment.create', 'night', [releaseId]],
      ['segment.delete', 'night', [releaseId]],
    ]);
    await ctx.admin.post(`/v1/releases/${releaseId}/abort`, { reason: 'test done' });
    expect((await ctx.admin.put(`/v1/apps/${appId}/segments/power`, { priority: 2 })).status).toBe(200);
  });

  it('refuses public, platforms and self-assignment changes of a channel with an active release; device overrides pass', async () => {
    const appId = 'com.example.guard.channels';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    expect((await ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'beta' })).status).toBe(201);
    const started = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: '1.0.0', plan: staged });
    expect(started.status).toBe(201);
    const releaseId = started.body.id as string;

    for (const change of [{ public: false }, { platforms: ['ios'] }, { allowSelfAssign: true }]) {
      const refused = await ctx.admin.patch(`/v1/apps/${appId}/channels/production`, change);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'release_population_change', details: { releaseIds: [releaseId] } });
      expect(refused.body.error.message).toMatch(new RegExp(`channel production.*release ${releaseId}`));
    }
    // Another channel of the app has no release to disturb.
    expect((await ctx.admin.patch(`/v1/apps/${appId}/channels/beta`, { allowSelfAssign: true })).status).toBe(200);
    // One device moved by hand is support work, not a population change.
    expect((await ctx.admin.put(`/v1/apps/${appId}/devices/device-1/channel`, { channel: 'beta' })).status).toBe(200);

    const configurer = await keyFor('release');
    expect((await configurer.patch(`/v1/apps/${appId}/channels/production`, { allowSelfAssign: true, force: true })).status).toBe(403);
    const forced = await ctx.admin.patch(`/v1/apps/${appId}/channels/production`, { allowSelfAssign: true, force: true });
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ name: 'production', allowSelfAssign: true });
    const { rows } = await ctx.stack.db.pool.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_log WHERE target = $1 AND action = 'channel.update' AND details->>'channel' = 'production'`,
      [`app:${appId}`],
    );
    expect(rows.map((r) => r.details)).toEqual([expect.objectContaining({ channel: 'production', allowSelfAssign: true, forcedPastReleases: [releaseId] })]);
    await ctx.admin.post(`/v1/releases/${releaseId}/abort`, { reason: 'test done' });
  });
});
