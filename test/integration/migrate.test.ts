import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createPool, type Pool } from '../../db/create-pool';
import { ensureDatabase } from '../../db/ensure-database';
import { migrate, MigrationChecksumError, MIGRATIONS_DIR } from '../../db/migrate';
import { ACTIVE_STATUSES } from '../../domain/release';
import { ROLLUP_SET_BITS } from '../../domain/insight';

describe(migrate.name, () => {
  const env = inject('testEnv');
  const name = `${env.databasePrefix}_migrate_${randomBytes(3).toString('hex')}`;
  const url = new URL(env.postgresUrl);
  url.pathname = `/${name}`;

  beforeAll(async () => {
    await ensureDatabase(url.toString());
    await ensureDatabase(url.toString());
  });
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: env.postgresUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`).finally(() => admin.end());
  });

  it('applies each migration exactly once when several processes start at the same moment', async () => {
    const pools = Array.from({ length: 5 }, () => createPool(url.toString(), 2));
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool)));
      const applied = results.flatMap((r) => r.applied);
      expect(applied).toContain('0001_foundation.sql');
      expect(new Set(applied).size).toBe(applied.length);
      const { rows } = await pools[0]!.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      expect(rows.map((r) => r.name)).toEqual([...new Set(applied)].sort());
      expect((await migrate(pools[0]!)).applied).toEqual([]);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('refuses to run when a migration that already ran was edited, and rolls back a failing one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-migrations-'));
    const pool = createPool(url.toString(), 2);
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      await writeFile(path.join(dir, '9999_broken.sql'), 'CREATE TABLE half_done (id INT); SELECT no_such_function();');
      await expect(migrate(pool, undefined, dir)).rejects.toThrow(/9999_broken.sql failed/);
      const { rowCount } = await pool.query("SELECT 1 FROM pg_tables WHERE tablename = 'half_done'");
      expect(rowCount).toBe(0);

      await rm(path.join(dir, '9999_broken.sql'));
      await writeFile(path.join(dir, '0001_foundation.sql'), '-- edited after landing\n');
      await expect(migrate(pool, undefined, dir)).rejects.toBeInstanceOf(MigrationChecksumError);
    } finally {
      await pool.end();
      await rm(dir, { recursive: true, force: true });
    }
  });

  /** Applies the migrations before `first` that `pool`'s database has not run yet. */
  const migrateBefore = async (pool: Pool, first: string) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-migrations-'));
    try {
      for (const file of (await readdir(MIGRATIONS_DIR)).filter((f) => f < first)) await cp(path.join(MIGRATIONS_DIR, file), path.join(dir, file));
      await migrate(pool, undefined, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  /** A database of its own migrated up to (not including) `first`, for a test of the migrations from there. */
  const migratedBefore = async (suffix: string, first: string, test: (pool: Pool) => Promise<void>) => {
    const before = `${name}_${suffix}`;
    const beforeUrl = new URL(env.postgresUrl);
    beforeUrl.pathname = `/${before}`;
    await ensureDatabase(beforeUrl.toString());
    const pool = createPool(beforeUrl.toString(), 1);
    try {
      await migrateBefore(pool, first);
      await test(pool);
    } finally {
      await pool.end();
      const admin = new pg.Client({ connectionString: env.postgresUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(before)} WITH (FORCE)`).finally(() => admin.end());
    }
  };

  /** An app with bundle 1.0.0 and its running release `r1`; the app's id. */
  const seedRelease = async (pool: Pool) => {
    const app = 'com.example.app';
    await pool.query(`INSERT INTO apps (id, name) VALUES ($1, 'a')`, [app]);
    await pool.query(`INSERT INTO bundles (app_id, version, url, sha256, size, platforms) VALUES ($1, '1.0.0', 'https://x/1.zip', $2, 1, '{ios}')`, [app, 'a'.repeat(64)]);
    await pool.query(
      `INSERT INTO releases (id, app_id, channel, version, bucket_salt, plan, status, workflow_id, created_by) VALUES ('r1', $1, 'production', '1.0.0', 's', '{}', 'running', 'r1', 'test')`,
      [app],
    );
    return app;
  };

  it('moves raw events written before partitioning into daily partitions, ids kept and still counting', async () => {
    await migratedBefore('events', '0005', async (pool) => {
        const days = [Date.UTC(2026, 10, 1, 23, 59), Date.UTC(2026, 10, 2, 0, 1), Date.UTC(2026, 10, 5, 12)].map((t) => new Date(t));
        for (const day of days) {
          await pool.query(
            `INSERT INTO device_events (app_id, device_id, segment, cohort, type, bundle_version, occurred_at, received_at, details)
             VALUES ('com.example.app', 'd', 'default', 'none', 'crash', '1.0.0', $1, $1, '{"message": "x"}')`,
            [day],
          );
        }
        const old = await pool.query<{ id: number; received_at: Date }>('SELECT e.id, e.received_at FROM device_events e ORDER BY e.id');

        // Up to the migration that keeps raw events as reports (tested on its own below).
        await migrateBefore(pool, '0024');
        const moved = await pool.query<{ id: number; received_at: Date; partition: string }>(
          'SELECT e.id, e.received_at, e.tableoid::regclass::text AS partition FROM device_events e ORDER BY e.id',
        );
        expect(moved.rows.map((r) => [r.id, r.received_at.getTime()])).toEqual(old.rows.map((r) => [r.id, r.received_at.getTime()]));
        expect(moved.rows.map((r) => r.partition)).toEqual(['device_events_p20261101', 'device_events_p20261102', 'device_events_p20261105']);
        const next = await pool.query<{ id: number }>(
          `INSERT INTO device_events (app_id, device_id, segment, cohort, type, bundle_version, occurred_at, received_at)
           VALUES ('com.example.app', 'd', 'default', 'none', 'crash', '1.0.0', now(), now()) RETURNING id`,
        );
        expect(next.rows[0]!.id).toBe(Math.max(...old.rows.map((r) => r.id)) + 1);
        const kind = await pool.query<{ relkind: string }>("SELECT c.relkind FROM pg_class c WHERE c.relname = 'device_events'");
        expect(kind.rows[0]!.relkind).toBe('p');
    });
  });

  it('keeps raw events as reports, one per device and arrival, every event and its order kept', async () => {
    await migratedBefore('reports', '0024', async (pool) => {
      const day1 = new Date(Date.UTC(2026, 10, 1, 23, 59));
      const day2 = new Date(Date.UTC(2026, 10, 2, 8));
      const events: Array<[string, string, Date, string | null, string, string | null]> = [
        ['d1', 'session_start', day1, 'r1', 'canary', null],
        ['d2', 'crash', day1, null, 'none', '{"message": "boom"}'],
        ['d1', 'feature_used', day1, 'r1', 'canary', '{"feature": "pay"}'],
        ['d1', 'session_end', day2, null, 'none', '{"durationMs": 5}'],
      ];
      for (const day of ['2026-11-01', '2026-11-02']) {
        await pool.query(`CREATE TABLE device_events_p${day.replace(/-/g, '')} PARTITION OF device_events FOR VALUES FROM ('${day}') TO (date '${day}' + 1)`);
      }
      for (const [device, type, at, release, cohort, details] of events) {
        await pool.query(
          `INSERT INTO device_events (app_id, device_id, release_id, segment, cohort, type, bundle_version, occurred_at, received_at, details)
           VALUES ('com.example.app', $1, $2, 'default', $3, $4, '1.0.0', $5, $5, $6)`,
          [device, release, cohort, type, at, details],
        );
      }
      const columns = 'e.device_id, e.type, e.received_at, e.release_id, e.cohort, e.details, e.occurred_at, e.bundle_version, e.segment';
      const before = (await pool.query(`SELECT ${columns} FROM device_events e ORDER BY e.id`)).rows;

      await migrate(pool);
      const reports = await pool.query<{ device_id: string; types: string[]; partition: string }>(
        'SELECT r.device_id, r.types, r.tableoid::regclass::text AS partition FROM device_reports r ORDER BY r.id',
      );
      expect(reports.rows).toEqual([
        { device_id: 'd1', types: ['session_start', 'feature_used'], partition: 'device_reports_p20261101' },
        { device_id: 'd2', types: ['crash'], partition: 'device_reports_p20261101' },
        { device_id: 'd1', types: ['session_end'], partition: 'device_reports_p20261102' },
      ]);
      const after = (await pool.query(`SELECT ${columns} FROM device_events e ORDER BY e.received_at, e.device_id, e.seq`)).rows;
      const byArrival = (rows: Array<Record<string, unknown>>) =>
        [...rows].sort((a, b) => (a.received_at as Date).getTime() - (b.received_at as Date).getTime() || String(a.device_id).localeCompare(String(b.device_id)));
      expect(after).toEqual(byArrival(before));
    });
  });

  it('gives the device memberships of existing buckets their bucket ids', async () => {
    await migratedBefore('memberships', '0013', async (pool) => {
      const start = new Date(Date.UTC(2026, 10, 1, 10));
      for (const cohort of ['canary', 'control']) {
        await pool.query(
          `INSERT INTO rollup_buckets (release_id, segment, cohort, bucket_ms, bucket_start, active_devices) VALUES ('r1', 'default', $1, 300000, $2, 2)`,
          [cohort, start],
        );
        for (const device of ['a', 'b']) {
          await pool.query(
            `INSERT INTO rollup_bucket_devices (release_id, segment, cohort, bucket_ms, bucket_start, device_set, device_id) VALUES ('r1', 'default', $1, 300000, $2, 1, $3)`,
            [cohort, start, `${cohort}-${device}`],
          );
        }
      }

      await migrate(pool);
      const { rows } = await pool.query<{ cohort: string; device_id: string }>(
        'SELECT b.cohort, d.device_id FROM rollup_bucket_devices d JOIN rollup_buckets b ON b.bucket_id = d.bucket_id ORDER BY d.device_id',
      );
      expect(rows).toEqual([
        { cohort: 'canary', device_id: 'canary-a' },
        { cohort: 'canary', device_id: 'canary-b' },
        { cohort: 'control', device_id: 'control-a' },
        { cohort: 'control', device_id: 'control-b' },
      ]);
    });
  });

  it('moves each bucket\'s histogram bins and feature uses onto its row, names given slots after other\'s', async () => {
    await migratedBefore('arrays', '0018', async (pool) => {
      const app = await seedRelease(pool);
      const start = new Date(Date.UTC(2026, 10, 1, 10));
      const key = `'r1', 'default', 'canary', 300000, $1::timestamptz`;
      await pool.query(`INSERT INTO rollup_buckets (release_id, segment, cohort, bucket_ms, bucket_start, sessions) VALUES (${key}, 9), ('r1', 'default', 'rest', 300000, $1, 1)`, [start]);
      await pool.query(
        `INSERT INTO rollup_histograms (release_id, segment, cohort, bucket_ms, bucket_start, histogram, bin, count)
         VALUES (${key}, 'session_duration', 1, 4), (${key}, 'session_duration', 3, 5), (${key}, 'install_duration', 0, 2)`,
        [start],
      );
      // Admitted in this order; a device's own feature called `other` had been admitted as a name too.
      for (const [feature, at] of [['search', 1], ['other', 2], ['checkout', 3]] as const) {
        await pool.query(`INSERT INTO rollup_feature_names (app_id, feature, created_at) VALUES ($1, $2, $3)`, [app, feature, new Date(Date.UTC(2026, 10, 1, at))]);
      }
      await pool.query(
        `INSERT INTO rollup_features (release_id, segment, cohort, bucket_ms, bucket_start, feature, uses) VALUES (${key}, 'checkout', 7), (${key}, 'other', 3)`,
        [start],
      );

      await migrate(pool);
      const { rows } = await pool.query(
        'SELECT b.cohort, b.sessions, b.session_durations, b.install_durations, b.feature_uses FROM rollup_buckets b ORDER BY b.cohort',
      );
      expect(rows).toEqual([
        { cohort: 'canary', sessions: 9, session_durations: [0, 4, 0, 5], install_durations: [2], feature_uses: [3, 0, 7] },
        { cohort: 'rest', sessions: 1, session_durations: [], install_durations: [], feature_uses: [] },
      ]);
      const names = await pool.query('SELECT n.feature, n.slot FROM rollup_feature_names n ORDER BY n.slot');
      expect(names.rows).toEqual([
        { feature: 'search', slot: 2 },
        { feature: 'checkout', slot: 3 },
      ]);
      const tables = await pool.query("SELECT c.relname FROM pg_class c WHERE c.relname IN ('rollup_histograms', 'rollup_features')");
      expect(tables.rows).toEqual([]);
      const added = await pool.query<{ sum: number[] }>("SELECT rollup_add_counts('{1,2}', '{10,20,30}') AS sum");
      expect(added.rows[0]!.sum).toEqual([11, 22, 30]);
    });
  });

  it('folds a device\'s memberships of a bucket, one row per set, into one row with the sets as bits', async () => {
    await migratedBefore('member_sets', '0023', async (pool) => {
      const start = new Date(Date.UTC(2026, 10, 1, 10));
      const { rows: buckets } = await pool.query<{ bucket_id: string }>(
        `INSERT INTO rollup_buckets (release_id, segment, cohort, bucket_ms, bucket_start, active_devices) VALUES ('r1', 'default', 'canary', 300000, $1, 2) RETURNING bucket_id`,
        [start],
      );
      // Old codes: 1 active, 2 on_release, 3 crashed, 4 js_error.
      for (const [device, set] of [['a', 1], ['a', 2], ['a', 4], ['b', 1], ['b', 3]] as const) {
        await pool.query('INSERT INTO rollup_bucket_devices (bucket_id, device_set, device_id) VALUES ($1, $2, $3)', [buckets[0]!.bucket_id, set, device]);
      }

      await migrate(pool);
      const { rows } = await pool.query<{ device_id: string; sets: number }>('SELECT d.device_id, d.sets FROM rollup_bucket_devices d ORDER BY d.device_id');
      const bits = ROLLUP_SET_BITS;
      expect(rows).toEqual([
        { device_id: 'a', sets: bits.active | bits.on_release | bits.js_error },
        { device_id: 'b', sets: bits.active | bits.crashed },
      ]);
    });
  });

  it('gives notification deliveries recorded before arms the version their payload named, where an outbox row holds it', async () => {
    await migratedBefore('arms', '0022', async (pool) => {
      const app = await seedRelease(pool);
      await pool.query(`INSERT INTO webhooks (id, app_id, url, secret, events) VALUES ('relay', $1, 'https://relay.example/push', 'x', '{segment_notification}')`, [app]);
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO segment_notifications (release_id, app_id, segment_key, stage_index, from_bps, to_bps, revision) VALUES ('r1', $1, 'default', 0, 0, 10000, 1) RETURNING id`,
        [app],
      );
      await pool.query(
        `INSERT INTO segment_notification_deliveries (id, notification_id, release_id, scheduled_for, device_count) VALUES ('sent', $1, 'r1', now(), 1), ('purged', $1, 'r1', now(), 1)`,
        [rows[0]!.id],
      );
      await pool.query(
        `INSERT INTO webhook_outbox (idempotency_key, webhook_id, app_id, event, payload, give_up_at) VALUES ('sent', 'relay', $1, 'segment_notification', '{"bundleVersion": "1.0.0"}', now())`,
        [app],
      );

      await migrate(pool);
      const deliveries = await pool.query('SELECT d.id, d.bundle_version, d.arm_key FROM segment_notification_deliveries d ORDER BY d.id');
      expect(deliveries.rows).toEqual([
        { id: 'purged', bundle_version: null, arm_key: null },
        { id: 'sent', bundle_version: '1.0.0', arm_key: null },
      ]);
    });
  });

  // The one SQL spelling of the active statuses that cannot take them as a parameter.
  it('lets the database hold at most one release per channel in exactly the statuses the domain calls active', async () => {
    const pool = createPool(url.toString(), 1);
    try {
      await migrate(pool);
      const { rows } = await pool.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'releases_one_active_per_channel'");
      const listed = [...(rows[0]?.indexdef ?? '').matchAll(/'([a-z_]+)'::text/g)].map((m) => m[1]);
      expect(listed.sort()).toEqual([...ACTIVE_STATUSES].sort());
    } finally {
      await pool.end();
    }
  });
});
