import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppAdoptionReadModel } from '../../db/read-models/app-adoption-read-model';
import { createDeviceProfileStore, type DeviceSighting } from '../../db/stores/device-profile-store';
import { HOUR_MS, MINUTE_MS } from '../../domain/time';
import { createRng } from '../../scripts/support/prng';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const APPS = ['com.example.counted', 'com.example.other'];
const CHANNELS = ['production', 'beta', null];
const BUNDLES = ['builtin', '1.0.0', '1.1.0', null];

describe('adoption counters per 5-minute slot', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    for (const id of APPS) await db.pool.query('INSERT INTO apps (id, name) VALUES ($1, $1)', [id]);
  });
  afterAll(() => db.drop());

  it('answer exactly what a count over the profiles says, after concurrent writers moved devices between slots, bundles and channels', async () => {
    const rng = createRng([11]);
    const pick = <T>(items: readonly T[]) => items[Math.floor(rng.next() * items.length)]!;
    const now = Date.now();
    const sighting = (): DeviceSighting => ({
      appId: pick(APPS),
      deviceId: `device-${Math.floor(rng.next() * 300)}`,
      platform: 'ios',
      nativeVersion: '3.0.0',
      bundleVersion: pick(BUNDLES),
      channel: pick(CHANNELS),
      attributes: null,
      seenAt: new Date(now - Math.floor(rng.next() * 80 * HOUR_MS)),
    });
    // Several stores on separate connections at once, as API instances flush their buffers.
    const writers = Array.from({ length: 4 }, () => createDeviceProfileStore(db.pool));
    // One sighting per device and batch, in key order: what a statement may hold without deadlocking another on `devices`.
    const batch = () => [...new Map(Array.from({ length: 60 }, sighting).map((s) => [`${s.appId} ${s.deviceId}`, s])).entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => s);
    for (let round = 0; round < 15; round++) await Promise.all(writers.map((store) => store.upsertSightings(batch())));
    await db.pool.query(`UPDATE devices SET channel = 'beta' WHERE device_id LIKE 'device-1%'`);
    await db.pool.query(`DELETE FROM devices WHERE device_id LIKE 'device-2%'`);

    const adoption = createAppAdoptionReadModel(db.pool);
    for (const appId of APPS) {
      for (const channel of ['production', 'beta', null]) {
        for (const windowMs of [HOUR_MS, 24 * HOUR_MS, 72 * HOUR_MS]) {
          const requested = new Date(now - windowMs);
          const { since, versions } = await adoption.activeByBundle(appId, channel, requested);
          expect(since.getTime()).toBeLessThanOrEqual(requested.getTime());
          expect(requested.getTime() - since.getTime()).toBeLessThan(5 * MINUTE_MS);
          const { rows } = await db.pool.query<{ bundle_version: string | null; devices: number }>(
            `SELECT d.bundle_version, count(*)::int AS devices FROM devices d
             WHERE d.app_id = $1 AND d.last_seen >= $2 AND ($3::text IS NULL OR d.channel = $3)
             GROUP BY d.bundle_version`,
            [appId, since, channel],
          );
          const byVersion = (a: { bundleVersion: string | null }, b: { bundleVersion: string | null }) => String(a.bundleVersion).localeCompare(String(b.bundleVersion));
          expect([...versions].sort(byVersion)).toEqual(rows.map((r) => ({ bundleVersion: r.bundle_version, devices: r.devices })).sort(byVersion));
        }
      }
    }
  });
});
