import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiMetrics } from '../../api/api-metrics';
import { createDeviceProfiles, type DeviceProfiles, type SightedDevice } from '../../api/device/device-profiles';
import { createDeviceProfileStore } from '../../db/stores/device-profile-store';
import { API_DEFAULTS } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { createRegistry } from '../../platform/metrics';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const DAY = 24 * 3600 * 1000;
const APP = 'com.example.profiles';

describe(createDeviceProfiles.name, () => {
  let db: TestDatabase;
  let profiles: DeviceProfiles;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(`INSERT INTO apps (id, name) VALUES ($1, 'profiles')`, [APP]);
    profiles = createDeviceProfiles({
      store: createDeviceProfileStore(db.pool),
      logger: createLogger('device-profiles-test', 'silent'),
      metrics: createApiMetrics(createRegistry('profiles_test', false)),
      ...API_DEFAULTS.deviceProfiles,
      flushIntervalMs: 20,
    });
    profiles.start();
  });
  afterAll(async () => {
    await profiles?.stop();
    await db?.drop();
  });

  const device = (deviceId: string, bundleVersion = 'builtin'): SightedDevice => ({
    appId: APP,
    deviceId,
    platform: 'ios',
    nativeVersion: '3.1.0',
    bundleVersion,
    channel: 'production',
    attributes: null,
  });
  const stored = async (deviceId: string) =>
    (await db.pool.query<{ bundle_version: string; last_seen: Date }>(`SELECT bundle_version, last_seen FROM devices WHERE app_id = $1 AND device_id = $2`, [APP, deviceId])).rows[0];

  it('answers engagement from memory: unknown at first, then loaded in the background', async () => {
    const now = Date.now();
    const today = new Date(now).toISOString().slice(0, 10);
    profiles.sighted(device('returning'), now - 3 * DAY);
    profiles.sessionsStarted(APP, 'returning', today, 4);
    await vi.waitFor(async () => expect(await stored('returning')).toBeDefined());
    await vi.waitFor(async () => expect((await db.pool.query(`SELECT 1 FROM device_sessions_daily WHERE device_id = 'returning'`)).rowCount).toBe(1));

    expect(profiles.engagement(APP, 'returning', now)).toBeNull();
    await vi.waitFor(() => expect(profiles.engagement(APP, 'returning', now)).toEqual({ sessionsLast7d: 4, daysSinceFirstSeen: 3 }));

    expect(profiles.engagement(APP, 'never-seen', now)).toBeNull();
    await vi.waitFor(() => expect(profiles.engagement(APP, 'never-seen', now)).toEqual({ sessionsLast7d: 0, daysSinceFirstSeen: 0 }));
  });

  it('writes a device seen again unchanged at most once per interval, and at once when it changed', async () => {
    const first = Date.now() - 60_000;
    profiles.sighted(device('steady'), first);
    await vi.waitFor(async () => expect((await stored('steady'))?.last_seen.getTime()).toBe(first));

    profiles.sighted(device('steady'), first + 30_000);
    profiles.sighted(device('updated'), first);
    await vi.waitFor(async () => expect(await stored('updated')).toBeDefined());
    expect((await stored('steady'))?.last_seen.getTime()).toBe(first);

    profiles.sighted(device('steady', '1.1.0'), first + 40_000);
    await vi.waitFor(async () => expect(await stored('steady')).toEqual({ bundle_version: '1.1.0', last_seen: new Date(first + 40_000) }));
  });

  it('keeps what an earlier sighting in the same batch knew when a later report leaves it out', async () => {
    const now = Date.now();
    profiles.sighted(device('mixed'), now);
    profiles.sighted({ ...device('mixed'), platform: null, channel: null }, now + 1);
    await vi.waitFor(async () =>
      expect((await db.pool.query(`SELECT platform, channel FROM devices WHERE device_id = 'mixed'`)).rows).toEqual([{ platform: 'ios', channel: 'production' }]),
    );
  });
});
