import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelemetryStore } from '../../db/stores/telemetry-store';
import { createLogger } from '../../platform/logger';
import { createRetentionJob } from '../../worker/retention-job';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const DAY = 24 * 3600 * 1000;

describe(createRetentionJob.name, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('deletes raw events and finished releases device-windows older than the retention, nothing else', async () => {
    const now = Date.now();
    const old = new Date(now - 40 * DAY);
    const recent = new Date(now - 2 * DAY);
    await db.pool.query(`INSERT INTO apps (id, name) VALUES ('com.example.retention', 'r')`);
    await db.pool.query(`INSERT INTO bundles (app_id, version, url, sha256, size, platforms) VALUES ('com.example.retention', '1.0.0', 'https://x/1.zip', $1, 1, '{ios}')`, ['a'.repeat(64)]);
    for (const [id, status, updated] of [
      ['done-long-ago', 'completed', old],
      ['done-recently', 'rolled_back', recent],
      ['still-running', 'running', old],
    ] as const) {
      await db.pool.query(
        `INSERT INTO releases (id, app_id, channel, version, bucket_salt, plan, status, workflow_id, created_by, updated_at)
         VALUES ($1, 'com.example.retention', $1, '1.0.0', $1, '{}', $2, $1, 'test', $3)`,
        [id, status, updated],
      );
      await db.pool.query(
        `INSERT INTO release_device_windows (release_id, window_start, device_id, on_cohort_bundle, segment, slice) VALUES ($1, $2, 'd', true, 'default', 'canary')`,
        [id, old],
      );
    }
    for (const received of [old, old, recent]) {
      await db.pool.query(
        `INSERT INTO device_events (app_id, device_id, segment, cohort, type, bundle_version, occurred_at, received_at)
         VALUES ('com.example.retention', 'd', 'default', 'none', 'crash', '1.0.0', $1, $1)`,
        [received],
      );
    }
    let deleted = 0;
    const job = createRetentionJob({ telemetry: createTelemetryStore(db.pool), logger: createLogger('test', 'silent'), retentionDays: 30, intervalMs: 3600_000, onDeleted: (n) => (deleted += n) });
    expect(await job.runOnce(now)).toBe(3);
    expect(deleted).toBe(3);
    const events = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM device_events');
    expect(events.rows[0]!.n).toBe(1);
    const windows = await db.pool.query<{ release_id: string }>('SELECT release_id FROM release_device_windows ORDER BY release_id');
    expect(windows.rows.map((r) => r.release_id)).toEqual(['done-recently', 'still-running']);
    expect(await job.runOnce(now)).toBe(0);
  });
});
