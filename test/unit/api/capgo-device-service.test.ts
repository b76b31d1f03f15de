import { describe, expect, it } from 'vitest';
import { createCapgoDeviceService } from '../../../api/device/capgo/capgo-device-service';
import { parseStatsUpload, type StatsUpload } from '../../../api/device/capgo/capgo-schemas';
import type { DeviceIdentity, DeviceService } from '../../../api/device/device-service';
import type { AppServing } from '../../../api/snapshot/app-serving';
import type { Channel, ChannelOverride } from '../../../domain/channel';

const APP = 'com.example.capgo';
const channel = (name: string, extra: Partial<Channel> = {}): Channel => ({
  appId: APP,
  name,
  public: false,
  allowSelfAssign: true,
  platforms: ['ios', 'android'],
  deploymentKey: `key-${name}`,
  createdAt: '2026-01-01T00:00:00Z',
  ...extra,
});

/** A DeviceService over one app that records what the Capgo service asks of it. */
function fakeDevices(overrides: Record<string, ChannelOverride> = {}, limited: string[] = [], full = false) {
  const app = {
    appId: APP,
    channels: new Map([channel('production', { public: true, allowSelfAssign: false }), channel('beta'), channel('ios-beta', { platforms: ['ios'] }), channel('staff', { allowSelfAssign: false })].map((c) => [c.name, c])),
    overrides: new Map(Object.entries(overrides)),
  } as unknown as AppServing;
  const calls: string[] = [];
  const reports: Array<{ identity: DeviceIdentity; types: string[] }> = [];
  const devices: Pick<DeviceService, 'app' | 'admit' | 'report' | 'resolve' | 'selfAssign' | 'clearSelfAssignment'> = {
    app: (appId) => (appId === APP ? app : undefined),
    admit: (_appId, deviceId) => (limited.includes(deviceId) ? { allowed: false, retryAfterSeconds: 3 } : { allowed: true }),
    report: (_app, identity, events) => {
      reports.push({ identity, types: events.map((e) => e.type) });
      return Promise.resolve();
    },
    resolve: (resolvedApp) => ({ app: resolvedApp, channel: null, segment: 'default' }),
    selfAssign: (_appId, deviceId, name) => {
      calls.push(`assign ${deviceId} ${name}`);
      return Promise.resolve(!full);
    },
    clearSelfAssignment: (_appId, deviceId) => {
      calls.push(`clear ${deviceId}`);
      return Promise.resolve(true);
    },
  };
  return { sut: createCapgoDeviceService({ devices: devices as DeviceService }), calls, reports };
}

const DEVICE = '00000000-0000-4000-8000-000000000001';
const OTHER = '00000000-0000-4000-8000-000000000002';
const request = (pluginVersion?: string) => ({ app_id: APP, device_id: DEVICE, platform: 'android' as const, plugin_version: pluginVersion });

describe('CapgoDeviceService.selfAssign', () => {
  it('refuses a legacy plugin once the app holds as many server-kept choices as it may', async () => {
    const { sut } = fakeDevices({}, [], true);
    expect(await sut.selfAssign(request('5.0.0'), 'beta')).toBe('too_many');
  });

  it('lets an admin override win over any choice of the device', async () => {
    const { sut, calls } = fakeDevices({ [DEVICE]: { channel: 'staff', source: 'admin' } });
    expect(await sut.selfAssign(request('8.0.0'), 'beta')).toBe('admin_override');
    expect(calls).toEqual([]);
  });

  it('treats the public default as giving up a channel of its own, for old and new plugins', async () => {
    const stale = { [DEVICE]: { channel: 'beta', source: 'self' as const } };
    const legacy = fakeDevices(stale);
    expect(await legacy.sut.selfAssign(request('5.20.0'), 'production')).toBe('default');
    expect(legacy.calls).toEqual([`clear ${DEVICE}`]);
    const modern = fakeDevices();
    expect(await modern.sut.selfAssign(request('8.0.0'), 'production')).toBe('unset');
    expect(modern.calls).toEqual([]);
  });

  it('refuses unknown channels, channels of another platform and channels without self-assignment', async () => {
    const { sut, calls } = fakeDevices();
    expect(await sut.selfAssign(request('8.0.0'), 'nope')).toBe('unknown_channel');
    expect(await sut.selfAssign(request('8.0.0'), 'ios-beta')).toBe('wrong_platform');
    expect(await sut.selfAssign(request('8.0.0'), 'staff')).toBe('not_self_assignable');
    expect(calls).toEqual([]);
  });

  it('stores the choice of a legacy plugin, and clears a stale stored one for a plugin that keeps its own', async () => {
    const legacy = fakeDevices();
    expect(await legacy.sut.selfAssign(request(), 'beta')).toBe('stored');
    expect(legacy.calls).toEqual([`assign ${DEVICE} beta`]);
    const modern = fakeDevices({ [DEVICE]: { channel: 'beta', source: 'self' } });
    expect(await modern.sut.selfAssign(request('8.0.0'), 'beta')).toBe('kept_by_device');
    expect(modern.calls).toEqual([`clear ${DEVICE}`]);
  });

  it('answers undefined for an unknown app', async () => {
    expect(await fakeDevices().sut.selfAssign({ ...request('8.0.0'), app_id: 'com.example.nobody' }, 'beta')).toBeUndefined();
  });
});

describe('CapgoDeviceService.reportStats', () => {
  const stat = (deviceId: string, action: string, versionName = '1.0.0') => ({
    app_id: APP,
    device_id: deviceId,
    platform: 'android',
    is_emulator: false,
    is_prod: true,
    version_os: '14',
    version_name: versionName,
    action,
  });
  const upload = (body: unknown): StatsUpload => {
    const parsed = parseStatsUpload(body);
    if (!parsed.ok || !parsed.value) throw new Error('expected a non-empty upload');
    return parsed.value;
  };

  it('reports per device, the newest event saying which bundle it runs; bad events are left out', async () => {
    const { sut, reports } = fakeDevices();
    const body = [stat(DEVICE, 'app_launch_start', '1.0.0'), stat(OTHER, 'app_crash'), { action: 'set' }, stat(DEVICE, 'set', '1.1.0')];
    expect(await sut.reportStats(upload(body))).toEqual({ allowed: true });
    expect(reports.map((r) => [r.identity.deviceId, r.identity.bundleVersion, r.types])).toEqual([
      [DEVICE, '1.1.0', ['session_start', 'install_ok']],
      [OTHER, '1.0.0', ['crash']],
    ]);
  });

  it('reports nothing when a device of the upload is over its rate limit', async () => {
    const { sut, reports } = fakeDevices({}, [OTHER]);
    expect(await sut.reportStats(upload([stat(DEVICE, 'app_crash'), stat(OTHER, 'app_crash')]))).toEqual({ allowed: false, retryAfterSeconds: 3 });
    expect(reports).toEqual([]);
  });
});

describe(parseStatsUpload.name, () => {
  it('refuses mixed app ids and oversized batches, and names no app for an empty batch', () => {
    expect(parseStatsUpload([])).toEqual({ ok: true, value: null });
    expect(parseStatsUpload([{ app_id: 'com.example.a' }, { app_id: 'com.example.b' }])).toMatchObject({ ok: false, problem: { error: 'mixed_app_ids' } });
    expect(parseStatsUpload(Array.from({ length: 201 }, () => ({ app_id: APP })))).toMatchObject({ ok: false, problem: { error: 'invalid_json_body', moreInfo: { events: 201 } } });
    expect(parseStatsUpload('nope')).toMatchObject({ ok: false, problem: { error: 'invalid_json_body' } });
  });
});
