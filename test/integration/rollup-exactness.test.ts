import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiMetrics } from '../../api/api-metrics';
import type { RolloutSnapshot } from '../../api/snapshot/rollout-snapshot';
import { createTelemetryService, type IngestRequest } from '../../api/telemetry/telemetry-service';
import { createInsightReadModel } from '../../db/read-models/insight-read-model';
import { OTHER_FEATURE_SLOT } from '../../db/stores/rollup-store';
import { createTelemetryStore } from '../../db/stores/telemetry-store';
import { DURATION_BIN_EDGES_MS, MAX_FEATURE_NAMES_PER_APP, foldRollups, type RollupCohort } from '../../domain/insight';
import { DAY_MS, HOUR_MS } from '../../domain/time';
import type { ReleaseStatus } from '../../domain/release';
import type { ChannelServing, ServingRelease } from '../../domain/serving';
import { createRegistry } from '../../platform/metrics';
import { API_DEFAULTS } from '../../platform/config';
import { createRng } from '../../scripts/support/prng';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const HOUR = 3600_000;
const SEGMENTS = ['default', 'power', 'enterprise'];
const EVENT_TYPES = ['install_ok', 'install_failed', 'boot_failed', 'crash', 'js_error', 'session_start', 'session_end', 'feature_used', 'capgo:download_complete'];

interface Channel {
  appId: string;
  channel: string;
  release: ServingRelease;
}

const release = (appId: string, channel: string, id: string, status: ReleaseStatus, exposureBps: number): ServingRelease => ({
  releaseId: id,
  appId,
  channel,
  bucketSalt: `salt-${id}`,
  windowMs: 60_000,
  createdAt: 0,
  revision: 1,
  status,
  stageIndex: 0,
  exposure: Object.fromEntries(SEGMENTS.map((s, i) => [s, exposureBps * (i + 1)])),
  publishedAt: 0,
  target: { version: `${id}.target`, url: 'https://x', sha256: 'a'.repeat(64), size: 1, platforms: ['ios'], nativeRange: '*', sessionKey: null, manifest: null, notes: null } as unknown as ServingRelease['target'],
  fallback: { version: `${id}.baseline` } as unknown as ServingRelease['fallback'],
});

const CHANNELS: Channel[] = [
  { appId: 'com.example.a', channel: 'production', release: release('com.example.a', 'production', 'ra', 'running', 1500) },
  { appId: 'com.example.a', channel: 'beta', release: release('com.example.a', 'beta', 'rb', 'paused', 2500) },
  { appId: 'com.example.b', channel: 'production', release: release('com.example.b', 'production', 'rc', 'completed', 0) },
];

/** The serving snapshot as the telemetry service reads it, without a database to load it from. */
const snapshot = {
  app: (appId: string) => ({
    serving: new Map<string, ChannelServing>(CHANNELS.filter((c) => c.appId === appId).map((c) => [c.channel, { current: c.release, withdrawnVersions: new Set() }])),
  }),
} as unknown as RolloutSnapshot;

/** A random fleet reporting random events over four hours, in requests of one to five events. */
function corpus(seed: number, requests: number): IngestRequest[] {
  const rng = createRng([seed]);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng.next() * list.length)]!;
  const devices = Array.from({ length: 150 }, (_, i) => {
    const channel = i % 17 === 0 ? null : pick(CHANNELS);
    return { deviceId: `dev-${i}`, appId: channel?.appId ?? 'com.example.a', channel, segment: pick(SEGMENTS) };
  });
  const start = Date.now() - 5 * HOUR;
  return Array.from({ length: requests }, () => {
    const device = pick(devices);
    const versions = device.channel ? [device.channel.release.target.version, device.channel.release.fallback!.version, 'builtin'] : ['builtin'];
    const events = Array.from({ length: 1 + Math.floor(rng.next() * 5) }, () => {
      const type = pick(EVENT_TYPES);
      // Log-spread durations reach every histogram bin, the open-ended one too.
      const duration = Math.floor(Math.exp(rng.next() * Math.log(2 * 3_600_000)));
      const details: Record<string, unknown> | null =
        type === 'session_end'
          ? { durationMs: duration }
          : type === 'feature_used'
            ? { feature: `feature-${Math.floor(rng.next() * 70)}` }
            : (type === 'install_ok' || type === 'install_failed') && rng.next() < 0.7
              ? { durationMs: duration }
              : null;
      return { type, at: new Date(start + Math.floor(rng.next() * 4 * HOUR)), bundleVersion: pick(versions), details };
    });
    return { appId: device.appId, deviceId: device.deviceId, channel: device.channel?.channel ?? null, segment: device.segment, events };
  });
}

const sortRows = (rows: object[]) => rows.map((r) => JSON.stringify(r)).sort();

/** Every rollup figure recomputed from the raw events; `$1`/`$2`: releases and their target versions. */
const REFERENCE = `
  WITH ev AS (
    SELECT e.release_id, e.segment, CASE e.cohort WHEN 'none' THEN 'rest' ELSE e.cohort END AS cohort, s.bucket_ms,
           date_bin(make_interval(secs => s.bucket_ms / 1000), e.occurred_at, 'epoch'::timestamptz) AS bucket_start,
           e.app_id, e.device_id, e.type, e.details, e.bundle_version = t.version AS on_release
    FROM device_events e
    JOIN unnest($1::text[], $2::text[]) AS t(release_id, version) ON t.release_id = e.release_id
    CROSS JOIN (VALUES (300000), (3600000)) AS s(bucket_ms)
  )`;

describe('release rollups', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('equal, figure by figure, what SQL computes from the raw events', async () => {
    // Two API instances: each store remembers the memberships and feature names it saw committed, and
    // must stay exact about the rows the other one writes.
    const instances = ['a', 'b'].map((name) =>
      createTelemetryService({
        snapshot,
        store: createTelemetryStore(db.pool),
        metrics: createApiMetrics(createRegistry(`exactness-${name}`, false)),
        maxBatch: 200,
        maxQueued: API_DEFAULTS.telemetryMaxQueued,
        rollups: true,
      }),
    );
    const requests = corpus(20261202, 3000);
    // Concurrent requests become group-committed batches of many sizes; a device's bucket spans batches and instances.
    for (let i = 0; i < requests.length; i += 300) await Promise.all(requests.slice(i, i + 300).map((r, j) => instances[j % 2]!.ingest(r)));
    await Promise.all(instances.map((s) => s.drain()));
    const params = [CHANNELS.map((c) => c.release.releaseId), CHANNELS.map((c) => c.release.target.version)];
    const key = 'ev.release_id, ev.segment, ev.cohort, ev.bucket_ms, ev.bucket_start';

    const expectedBuckets = await db.pool.query(
      `${REFERENCE}
       SELECT ${key},
              count(DISTINCT ev.device_id)::int AS active_devices,
              count(DISTINCT ev.device_id) FILTER (WHERE ev.on_release)::int AS on_release_devices,
              count(DISTINCT ev.device_id) FILTER (WHERE ev.type = 'crash')::int AS crashed_devices,
              count(DISTINCT ev.device_id) FILTER (WHERE ev.type = 'js_error')::int AS js_error_devices,
              count(*) FILTER (WHERE ev.type = 'install_ok')::int AS installs_ok,
              count(*) FILTER (WHERE ev.type = 'install_failed')::int AS installs_failed,
              count(*) FILTER (WHERE ev.type = 'session_start')::int AS sessions
       FROM ev GROUP BY ${key}`,
      params,
    );
    const actualBuckets = await db.pool.query(
      `SELECT b.release_id, b.segment, b.cohort, b.bucket_ms, b.bucket_start, b.active_devices, b.on_release_devices, b.crashed_devices,
              b.js_error_devices, b.installs_ok, b.installs_failed, b.sessions
       FROM rollup_buckets b`,
    );
    expect(actualBuckets.rows.length).toBeGreaterThan(500);
    expect(new Set(actualBuckets.rows.map((r: { cohort: string }) => r.cohort))).toEqual(new Set(['canary', 'control', 'rest']));
    expect(sortRows(actualBuckets.rows)).toEqual(sortRows(expectedBuckets.rows));

    const expectedHistograms = await db.pool.query(
      `${REFERENCE}, durations AS (
         SELECT ${key}, CASE WHEN ev.type = 'session_end' THEN 'session_duration' ELSE 'install_duration' END AS histogram,
                (ev.details ->> 'durationMs')::int AS duration
         FROM ev WHERE ev.type IN ('session_end', 'install_ok', 'install_failed') AND ev.details ? 'durationMs')
       SELECT d.release_id, d.segment, d.cohort, d.bucket_ms, d.bucket_start, d.histogram,
              (SELECT count(*) FROM unnest($3::int[]) AS edge WHERE edge <= d.duration)::int - 1 AS bin, count(*)::int AS count
       FROM durations d GROUP BY 1, 2, 3, 4, 5, 6, 7`,
      [...params, [...DURATION_BIN_EDGES_MS]],
    );
    // Each bucket row holds its histograms and feature uses as arrays: unfolded here into one row per
    // bin and name, leaving out the zeros a dense array holds for bins and slots nobody used.
    const actualHistograms = await db.pool.query(
      `SELECT b.release_id, b.segment, b.cohort, b.bucket_ms, b.bucket_start, h.histogram, (x.i - 1)::int AS bin, x.count
       FROM rollup_buckets b
       CROSS JOIN LATERAL (VALUES ('session_duration', b.session_durations), ('install_duration', b.install_durations)) AS h(histogram, counts)
       CROSS JOIN LATERAL unnest(h.counts) WITH ORDINALITY AS x(count, i)
       WHERE x.count <> 0`,
    );
    expect(new Set(actualHistograms.rows.map((r: { bin: number }) => r.bin)).size).toBe(DURATION_BIN_EDGES_MS.length);
    expect(sortRows(actualHistograms.rows)).toEqual(sortRows(expectedHistograms.rows));

    const names = await db.pool.query<{ app_id: string; n: number; slots: number[] }>(
      'SELECT n.app_id, count(*)::int AS n, array_agg(n.slot ORDER BY n.slot) AS slots FROM rollup_feature_names n GROUP BY n.app_id ORDER BY 1',
    );
    // Every kept name has a slot of its own after `other`'s.
    const slots = Array.from({ length: MAX_FEATURE_NAMES_PER_APP }, (_, i) => OTHER_FEATURE_SLOT + 1 + i);
    expect(names.rows).toEqual([
      { app_id: 'com.example.a', n: MAX_FEATURE_NAMES_PER_APP, slots },
      { app_id: 'com.example.b', n: MAX_FEATURE_NAMES_PER_APP, slots },
    ]);
    const expectedFeatures = await db.pool.query(
      `${REFERENCE}
       SELECT ${key},
              CASE WHEN EXISTS (SELECT 1 FROM rollup_feature_names n WHERE n.app_id = ev.app_id AND n.feature = ev.details ->> 'feature')
                   THEN ev.details ->> 'feature' ELSE 'other' END AS feature,
              count(*)::int AS uses
       FROM ev WHERE ev.type = 'feature_used' GROUP BY 1, 2, 3, 4, 5, 6`,
      params,
    );
    const actualFeatures = await db.pool.query(
      `SELECT b.release_id, b.segment, b.cohort, b.bucket_ms, b.bucket_start, coalesce(n.feature, 'other') AS feature, x.uses
       FROM rollup_buckets b
       JOIN unnest($1::text[], $2::text[]) AS r(release_id, app_id) ON r.release_id = b.release_id
       CROSS JOIN LATERAL unnest(b.feature_uses) WITH ORDINALITY AS x(uses, slot)
       LEFT JOIN rollup_feature_names n ON n.app_id = r.app_id AND n.slot = x.slot
       WHERE x.uses <> 0`,
      [CHANNELS.map((c) => c.release.releaseId), CHANNELS.map((c) => c.appId)],
    );
    expect(actualFeatures.rows.some((r: { feature: string }) => r.feature === 'other')).toBe(true);
    expect(sortRows(actualFeatures.rows)).toEqual(sortRows(expectedFeatures.rows));
  });

  // Reads the rollups the first test wrote.
  it('count distinct devices over a range exactly, and not at all beyond the read limit', async () => {
    const { releaseId, target } = CHANNELS[0]!.release;
    const { rows: segments } = await db.pool.query<{ segment: string }>('SELECT DISTINCT b.segment FROM rollup_buckets b WHERE b.release_id = $1', [releaseId]);
    const query = {
      releaseId,
      stepMs: HOUR_MS,
      from: new Date(0),
      to: new Date(Date.now() + 2 * DAY_MS),
      segments: segments.map((s) => s.segment),
      cohorts: ['canary', 'control', 'rest'] satisfies RollupCohort[],
    };
    const expected = await db.pool.query<{ segment: string; cohort: string; active: number; on_release: number; crashed: number; js_error: number }>(
      `${REFERENCE}
       SELECT ev.segment, ev.cohort, count(DISTINCT ev.device_id)::int AS active,
              count(DISTINCT ev.device_id) FILTER (WHERE ev.on_release)::int AS on_release,
              count(DISTINCT ev.device_id) FILTER (WHERE ev.type = 'crash')::int AS crashed,
              count(DISTINCT ev.device_id) FILTER (WHERE ev.type = 'js_error')::int AS js_error
       FROM ev WHERE ev.bucket_ms = ${HOUR_MS} GROUP BY 1, 2`,
      [[releaseId], [target.version]],
    );
    expect(expected.rows.length).toBeGreaterThan(2);

    const exact = (await createInsightReadModel(db.pool).read(query)).series;
    const ranges = exact.filter((s) => s.buckets.length > 0).map((s) => ({ segment: s.segment, cohort: s.cohort, ...s.range }));
    expect(sortRows(ranges)).toEqual(
      sortRows(
        expected.rows.map((r) => ({ segment: r.segment, cohort: r.cohort, activeDevices: r.active, onReleaseDevices: r.on_release, crashedDevices: r.crashed, jsErrorDevices: r.js_error })),
      ),
    );

    const limited = (await createInsightReadModel(db.pool, { maxExactRangeMemberships: 10 }).read(query)).series;
    expect(limited.map((s) => s.range)).toEqual(limited.map(() => null));
    expect(limited.map((s) => s.buckets)).toEqual(exact.map((s) => s.buckets));
  });

  // Reads the rollups the first test wrote.
  it('are read from memory while their rows are unchanged, and anew once written or deleted', async () => {
    const { releaseId } = CHANNELS[0]!.release;
    const query = { releaseId, stepMs: HOUR_MS, from: new Date(0), to: new Date(Date.now() + 2 * DAY_MS), segments: SEGMENTS, cohorts: ['canary', 'control', 'rest'] satisfies RollupCohort[] };
    const model = createInsightReadModel(db.pool);
    const buckets = async () => (await model.read(query)).series.flatMap((s) => s.buckets.map((b) => ({ key: `${s.segment}/${s.cohort}/${b.start}`, bucket: b })));
    const first = await buckets();
    expect(first.length).toBeGreaterThan(3);
    const second = await buckets();
    second.forEach(({ bucket }, i) => expect(bucket).toBe(first[i]!.bucket));

    // A new device's session in one bucket; another bucket deleted (as retention does).
    const [segment, cohort, start] = first[0]!.key.split('/') as [string, RollupCohort, string];
    const session = { appId: CHANNELS[0]!.appId, releaseId, segment, cohort, deviceId: 'late', type: 'session_start', onRelease: false, occurredAtMs: Number(start), details: null };
    await createTelemetryStore(db.pool).write([], [], foldRollups([session]));
    const gone = first.at(-1)!;
    const [goneSegment, goneCohort, goneStart] = gone.key.split('/');
    await db.pool.query('DELETE FROM rollup_buckets b WHERE b.release_id = $1 AND b.segment = $2 AND b.cohort = $3 AND b.bucket_ms = $4 AND b.bucket_start = $5', [
      releaseId,
      goneSegment,
      goneCohort,
      HOUR_MS,
      new Date(Number(goneStart)),
    ]);
    const third = await buckets();
    expect(third.map((b) => b.key)).toEqual(first.slice(0, -1).map((b) => b.key));
    expect(third[0]!.bucket).not.toBe(first[0]!.bucket);
    expect(third[0]!.bucket.figures).toMatchObject({ sessions: first[0]!.bucket.figures.sessions + 1, activeDevices: first[0]!.bucket.figures.activeDevices + 1 });
    third.slice(1).forEach(({ bucket }, i) => expect(bucket).toBe(first[i + 1]!.bucket));
  });

  it('keep nothing of a batch that fails', async () => {
    const count = async () => (await db.pool.query<{ n: number }>('SELECT (SELECT count(*) FROM rollup_buckets) + (SELECT count(*) FROM rollup_bucket_devices) AS n')).rows[0]!.n;
    const before = await count();
    const at = new Date();
    const rollups = foldRollups([{ appId: 'com.example.a', releaseId: 'new', segment: 'default', cohort: 'rest', deviceId: 'x', type: 'crash', onRelease: false, occurredAtMs: at.getTime(), details: null }]);
    const invalid = { appId: 'com.example.a', deviceId: 'x', releaseId: 'new', segment: 'default', cohort: 'bogus' as 'none', type: 'crash', bundleVersion: '1', occurredAt: at, receivedAt: at, details: null };
    await expect(createTelemetryStore(db.pool).write([invalid], [], rollups)).rejects.toThrow(/check constraint/);
    expect(await count()).toBe(before);
  });
});
