import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiMetrics } from '../../api/api-metrics';
import { createRolloutSnapshot, type RolloutSnapshot } from '../../api/snapshot/rollout-snapshot';
import { createServingReadModel, type ServingReadModel } from '../../db/read-models/serving-read-model';
import { createChannelOverrideStore } from '../../db/stores/channel-override-store';
import { createRolloutStateStore } from '../../db/stores/rollout-state-store';
import { createRegistry } from '../../platform/metrics';
import { createLogger } from '../../platform/logger';
import { createSecretBox, newSecretsKey } from '../../platform/secret-box';
import { waitFor } from '../../scripts/support/until';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const APP = 'com.example.snapshot';

/** The real read model, with the reads it was asked for written down. */
function recording(model: ServingReadModel) {
  const calls: string[] = [];
  const wrapped = Object.fromEntries(
    Object.entries(model).map(([name, read]: [string, (...args: unknown[]) => Promise<unknown>]) => [
      name,
      (...args: unknown[]) => {
        calls.push(`${name}${name === 'releases' || name === 'overridesOf' ? ` ${JSON.stringify(args.at(-1))}` : ''}`);
        return read(...args);
      },
    ]),
  ) as unknown as ServingReadModel;
  return { wrapped, calls };
}

describe('the rollout snapshot', () => {
  let db: TestDatabase;
  let snapshot: RolloutSnapshot;
  let calls: string[];
  const since = (mark: number) => calls.slice(mark);

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(`INSERT INTO apps (id, name) VALUES ($1, 'Snapshot')`, [APP]);
    await db.pool.query(
      `INSERT INTO channels (app_id, name, public, allow_self_assign, platforms, deployment_key)
       VALUES ($1, 'production', true, false, '{ios,android}', 'k-prod'), ($1, 'beta', false, true, '{ios,android}', 'k-beta')`,
      [APP],
    );
    await db.pool.query(
      `INSERT INTO bundles (app_id, version, url, sha256, size, platforms)
       SELECT $1, v, 'https://cdn.example.com/' || v || '.zip', repeat('ab', 32), 10, '{ios,android}' FROM unnest($2::text[]) v`,
      [APP, ['1.0.0', '1.0.1', '1.0.2', '1.0.3']],
    );
    // Two releases that ended days ago (the first withdrawn), and one in flight.
    await db.pool.query(
      `INSERT INTO releases (id, app_id, channel, version, baseline_version, bucket_salt, plan, status, workflow_id, created_by, created_at)
       VALUES ('r1', $1, 'production', '1.0.1', '1.0.0', 's1', '{}', 'rolled_back', 'w1', 't', now() - interval '3 days'),
              ('r2', $1, 'production', '1.0.2', '1.0.0', 's2', '{}', 'completed', 'w2', 't', now() - interval '2 days'),
              ('r3', $1, 'production', '1.0.3', '1.0.2', 's3', '{}', 'running', 'w3', 't', now() - interval '1 hour')`,
      [APP],
    );
    await db.pool.query(
      `INSERT INTO rollout_state (release_id, app_id, revision, status, stage_index, exposure, published_at)
       VALUES ('r1', $1, 3, 'rolled_back', 0, '{"default": 0}', now() - interval '3 days'),
              ('r2', $1, 3, 'completed', 1, '{"default": 10000}', now() - interval '2 days'),
              ('r3', $1, 1, 'running', 0, '{"default": 1000}', now())`,
      [APP],
    );
    const model = recording(createServingReadModel(db.pool, createSecretBox(newSecretsKey()), 60_000));
    calls = model.calls;
    snapshot = createRolloutSnapshot({
      databaseUrl: db.url,
      readModel: model.wrapped,
      logger: createLogger('snapshot-test', 'warn'),
      metrics: createApiMetrics(createRegistry('snapshot_test', false)),
      reconcileMs: 1000,
      endedRetentionMs: 2000,
    });
    await snapshot.start();
  });

  afterAll(async () => {
    await snapshot?.stop();
    await db?.drop();
  });

  it('holds the channel newest and what is in flight, not releases that ended long ago, and still sends devices off a withdrawn bundle', () => {
    const production = snapshot.app(APP)!.serving.get('production')!;
    expect(production.current.releaseId).toBe('r3');
    expect(snapshot.release('r1')).toBeUndefined();
    expect(snapshot.release('r2')).toBeUndefined();
    expect([...production.withdrawnVersions]).toEqual(['1.0.1']);
  });

  it('applies a published revision by reading that release alone', async () => {
    const mark = calls.length;
    await createRolloutStateStore(db.pool).publish({ releaseId: 'r3', appId: APP, revision: 2, status: 'running', stageIndex: 0, exposure: { default: 5000 }, reason: null });
    await snapshot.waitForRevision('r3', 2);
    expect(snapshot.app(APP)!.serving.get('production')!.current.exposure).toEqual({ default: 5000 });
    expect(since(mark).filter((c) => !c.startsWith('revisions') && !c.startsWith('publishedSince') && !c.startsWith('lapsedSince'))).toEqual(['releases ["r3"]']);
  });

  it('applies an override change by reading that device alone, and a bulk change by rereading the app', async () => {
    const overrides = createChannelOverrideStore(db.pool);
    const mark = calls.length;
    await overrides.set(APP, 'device-a', 'beta', 'admin');
    await waitFor('device-a override', () => Promise.resolve(snapshot.app(APP)!.overrides.get('device-a')), (o) => o?.channel === 'beta');
    await overrides.remove(APP, 'device-a');
    await waitFor('device-a override gone', () => Promise.resolve(snapshot.app(APP)!.overrides.has('device-a')), (has) => !has);
    expect(since(mark).filter((c) => c.startsWith('overrides'))).toEqual(['overridesOf ["device-a"]', 'overridesOf ["device-a"]']);

    await db.pool.query(`INSERT INTO device_channel_overrides (app_id, device_id, channel, source) SELECT $1, 'bulk-' || g, 'beta', 'admin' FROM generate_series(1, 500) g`, [APP]);
    await waitFor('bulk overrides', () => Promise.resolve(snapshot.app(APP)!.overrides.size), (size) => size === 500);
  });

  it('rereads every override of the app once a revision shows a notification was lost', async () => {
    const client = await db.pool.connect();
    try {
      // A change no instance heard of: written without triggers, its revision bumped by hand.
      await client.query('SET session_replication_role = replica');
      await client.query(`INSERT INTO device_channel_overrides (app_id, device_id, channel, source) VALUES ($1, 'unheard', 'beta', 'admin')`, [APP]);
      await client.query('UPDATE apps SET overrides_revision = overrides_revision + 1 WHERE id = $1', [APP]);
      await client.query('RESET session_replication_role');
    } finally {
      client.release();
    }
    await createChannelOverrideStore(db.pool).set(APP, 'heard', 'beta', 'admin');
    await waitFor('the unheard override', () => Promise.resolve(snapshot.app(APP)!.overrides.get('unheard')), (o) => o?.channel === 'beta');
    expect(snapshot.app(APP)!.overrides.get('heard')).toEqual({ channel: 'beta', source: 'admin' });
  });

  it('catches up in the reconcile with a state published without a notification', async () => {
    await db.pool.query(`UPDATE rollout_state SET revision = 3, exposure = '{"default": 7000}', published_at = now() WHERE release_id = 'r3'`);
    await snapshot.waitForRevision('r3', 3);
    expect(snapshot.app(APP)!.serving.get('production')!.current.exposure).toEqual({ default: 7000 });
  });

  it('rereads the app definitions when a segment changes', async () => {
    await db.pool.query(`INSERT INTO segments (app_id, key, rule, priority) VALUES ($1, 'beta-testers', '{"attribute": "attributes.tester", "op": "is_true"}', 10)`, [APP]);
    await waitFor('the new segment', () => Promise.resolve(snapshot.app(APP)!.segments.map((s) => s.key)), (keys) => keys.includes('beta-testers'));
  });

  it('lets an ended release go after the retention, keeping its withdrawn version', async () => {
    await createRolloutStateStore(db.pool).publish({ releaseId: 'r2', appId: APP, revision: 4, status: 'rolled_back', stageIndex: 1, exposure: { default: 0 }, reason: 'late' });
    await snapshot.waitForRevision('r2', 4);
    expect(snapshot.release('r2')?.status).toBe('rolled_back');
    await waitFor('r2 to leave memory', () => Promise.resolve(snapshot.release('r2')), (r) => r === undefined);
    const production = snapshot.app(APP)!.serving.get('production')!;
    expect(production.current.releaseId).toBe('r3');
    // r3's baseline is 1.0.2: devices go back to it, so it is not a version to leave.
    expect(new Set(production.withdrawnVersions)).toEqual(new Set(['1.0.1']));
    expect(snapshot.release('r3')?.revision).toBe(3);
  });
});
