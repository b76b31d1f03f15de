import { describe, expect, it } from 'vitest';
import type { DeviceProfileStore, SessionCount } from '../../../db/stores/device-profile-store';
import { createApiMetrics } from '../../../api/api-metrics';
import { createDeviceProfiles, PROFILE_STATEMENT_ROWS, type SightedDevice } from '../../../api/device/device-profiles';
import { API_DEFAULTS } from '../../../platform/config';
import { createLogger } from '../../../platform/logger';
import { createRegistry } from '../../../platform/metrics';
import { waitFor } from '../../../scripts/support/until';

const APP = 'com.example.app';
const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

const device = (deviceId: string): SightedDevice => ({
  appId: APP,
  deviceId,
  platform: 'ios',
  nativeVersion: '3.1.0',
  bundleVersion: 'builtin',
  channel: 'production',
  attributes: null,
});

/** Records every statement; `failNext` makes the next statement of a kind fail as if PostgreSQL were away. */
function fakeStore() {
  const statements = { sightings: [] as number[], sessions: [] as number[], served: [] as number[], loads: [] as string[][] };
  const written = { sightings: new Set<string>(), sessions: new Map<string, number>(), served: new Set<string>() };
  const failNext = { sightings: -1, sessions: -1 };
  const store: Pick<DeviceProfileStore, 'upsertSightings' | 'addSessions' | 'recordServed' | 'engagement'> = {
    upsertSightings(rows) {
      if (statements.sightings.length === failNext.sightings) return Promise.reject(unreachable());
      statements.sightings.push(rows.length);
      for (const r of rows) written.sightings.add(r.deviceId);
      return Promise.resolve();
    },
    addSessions(rows: SessionCount[]) {
      if (statements.sessions.length === failNext.sessions) return Promise.reject(unreachable());
      statements.sessions.push(rows.length);
      for (const r of rows) written.sessions.set(r.deviceId, (written.sessions.get(r.deviceId) ?? 0) + r.sessions);
      return Promise.resolve();
    },
    recordServed(rows) {
      statements.served.push(rows.length);
      for (const r of rows) written.served.add(r.deviceId);
      return Promise.resolve();
    },
    engagement(_appId, deviceIds) {
      statements.loads.push([...deviceIds]);
      return Promise.resolve(new Map());
    },
  };
  return { store: store as DeviceProfileStore, statements, written, failNext };
}

const profilesOn = (
  store: DeviceProfileStore,
  tuning: Partial<typeof API_DEFAULTS.deviceProfiles> = {},
  metrics = createApiMetrics(createRegistry('batches', false)),
) => createDeviceProfiles({ ...API_DEFAULTS.deviceProfiles, ...tuning, store, logger: createLogger('test', 'silent'), metrics });

describe('device profile batches', () => {
  it('writes a big buffer in statements of bounded size, so no write holds the event loop long', async () => {
    const fake = fakeStore();
    const profiles = profilesOn(fake.store);
    const devices = Array.from({ length: 2 * PROFILE_STATEMENT_ROWS + 500 }, (_, i) => `d-${i}`);
    for (const d of devices) {
      profiles.sighted(device(d), Date.now());
      profiles.served(APP, 'release-1', d, Date.now());
    }
    await profiles.stop();
    expect(fake.statements.sightings).toEqual([PROFILE_STATEMENT_ROWS, PROFILE_STATEMENT_ROWS, 500]);
    expect(fake.statements.served).toEqual([PROFILE_STATEMENT_ROWS, PROFILE_STATEMENT_ROWS, 500]);
    expect(fake.written.sightings.size).toBe(devices.length);
    expect(fake.written.served.size).toBe(devices.length);
  });

  it('keeps only what a failed write did not write, and adds no session count twice', async () => {
    const fake = fakeStore();
    const profiles = profilesOn(fake.store);
    const devices = Array.from({ length: 2 * PROFILE_STATEMENT_ROWS + 500 }, (_, i) => `d-${i}`);
    for (const d of devices) {
      profiles.sighted(device(d), Date.now());
      profiles.sessionsStarted(APP, d, '2026-12-03', 2);
    }
    fake.failNext.sessions = 1;
    await profiles.stop();
    expect(fake.written.sightings.size).toBe(devices.length);
    expect(fake.written.sessions.size).toBe(PROFILE_STATEMENT_ROWS);

    fake.failNext.sessions = -1;
    fake.failNext.sightings = fake.statements.sightings.length;
    profiles.sighted(device('d-late'), Date.now());
    await profiles.stop();
    expect(fake.written.sightings.has('d-late')).toBe(false);

    fake.failNext.sightings = -1;
    await profiles.stop();
    expect(fake.written.sightings.has('d-late')).toBe(true);
    expect(fake.written.sessions.size).toBe(devices.length);
    expect([...fake.written.sessions.values()].every((n) => n === 2)).toBe(true);
  });

  it('queues at most maxBuffered engagement loads, however many new devices check', async () => {
    const fake = fakeStore();
    const metrics = createApiMetrics(createRegistry('batches', false));
    const profiles = profilesOn(fake.store, { maxBuffered: 10, flushIntervalMs: 5 }, metrics);
    for (let i = 0; i < 25; i += 1) expect(profiles.engagement(APP, `new-${i}`, Date.now())).toBeNull();
    // The 15 beyond the queue's bound are counted, not queued.
    expect((await metrics.profileLoads.get()).values.find((v) => v.labels.outcome === 'dropped')?.value).toBe(15);
    const pending = async () => (await metrics.profileLoadsPending.get()).values[0]?.value;
    expect(await pending()).toBe(10);
    profiles.start();
    try {
      await waitFor('the queued loads', pending, (n) => n === 0, { everyMs: 5 });
    } finally {
      await profiles.stop();
    }
    expect(fake.statements.loads.flat()).toEqual(Array.from({ length: 10 }, (_, i) => `new-${i}`));
  });
});
