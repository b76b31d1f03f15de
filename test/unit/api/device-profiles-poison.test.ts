import { describe, expect, it } from 'vitest';
import type { DeviceProfileStore, DeviceSighting, SessionCount } from '../../../db/stores/device-profile-store';
import { createApiMetrics } from '../../../api/api-metrics';
import { createDeviceProfiles, type SightedDevice } from '../../../api/device/device-profiles';
import { API_DEFAULTS } from '../../../platform/config';
import { createLogger } from '../../../platform/logger';
import { createRegistry } from '../../../platform/metrics';

const refused = () => Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
const poisoned = (rows: Array<DeviceSighting | SessionCount>) => rows.some((r) => JSON.stringify(r).includes('\\u0000'));

/** Refuses any statement holding U+0000, as PostgreSQL does. */
function fakeStore() {
  const sightings = new Map<string, DeviceSighting>();
  let sessions = 0;
  const store: Pick<DeviceProfileStore, 'upsertSightings' | 'addSessions'> = {
    upsertSightings(rows) {
      if (poisoned(rows)) return Promise.reject(refused());
      for (const r of rows) sightings.set(r.deviceId, r);
      return Promise.resolve();
    },
    addSessions(rows) {
      if (poisoned(rows)) return Promise.reject(refused());
      sessions += rows.reduce((n, r) => n + r.sessions, 0);
      return Promise.resolve();
    },
  };
  return { store: store as DeviceProfileStore, sightings, sessions: () => sessions };
}

const device = (deviceId: string, nativeVersion = '3.1.0'): SightedDevice => ({
  appId: 'com.example.app',
  deviceId,
  platform: 'ios',
  nativeVersion,
  bundleVersion: 'builtin',
  channel: 'production',
  attributes: null,
});

describe('device profiles with a row PostgreSQL refuses', () => {
  it('writes the good rows, drops and counts the bad one, and writes later batches', async () => {
    const registry = createRegistry('poison', false);
    const fake = fakeStore();
    const profiles = createDeviceProfiles({ ...API_DEFAULTS.deviceProfiles, store: fake.store, logger: createLogger('test', 'silent'), metrics: createApiMetrics(registry) });
    for (let i = 0; i < 20; i += 1) profiles.sighted(device(`d-${i}`, i === 7 ? '3.1.0\u0000' : '3.1.0'), Date.now());
    profiles.sessionsStarted('com.example.app', 'd-1', '2025-06-01', 2);
    await profiles.stop();
    expect(fake.sightings.size).toBe(19);
    expect(fake.sightings.has('d-7')).toBe(false);
    expect(fake.sessions()).toBe(2);

    profiles.sighted(device('d-late'), Date.now());
    await profiles.stop();
    expect(fake.sightings.has('d-late')).toBe(true);
    const writes = (await registry.getSingleMetric('rampart_device_profile_writes_total')!.get()).values;
    expect(writes.find((v) => v.labels.outcome === 'refused')?.value).toBe(1);
    expect(writes.find((v) => v.labels.outcome === 'error')).toBeUndefined();
  });
});
