import { createHash } from 'node:crypto';
import { bucketOf } from '../../domain/bucketing';
import type { BundleRef } from '../../domain/bundle';
import type { DeviceContext, ServingRelease } from '../../domain/serving';
import type { Http } from './http';
import type { Queryable } from '../../db/create-pool';

export function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function bundleBody(version: string, extra: Record<string, unknown> = {}) {
  return { version, url: `https://cdn.example.com/bundles/${version}.zip`, sha256: sha256Of(version), size: 1024 + version.length, ...extra };
}

export async function createAppWithBundles(admin: Http, appId: string, versions: string[]): Promise<void> {
  const app = await admin.post('/v1/apps', { id: appId, name: `Test ${appId}` });
  if (app.status !== 201) throw new Error(`app: ${app.status} ${JSON.stringify(app.body)}`);
  for (const version of versions) {
    const bundle = await admin.post(`/v1/apps/${appId}/bundles`, bundleBody(version));
    if (bundle.status !== 201) throw new Error(`bundle: ${bundle.status} ${JSON.stringify(bundle.body)}`);
  }
}

/** The first device id (device-0, device-1, …) whose bucket for the salt lies in [from, to). */
export function deviceInBuckets(salt: string, from: number, to: number, prefix = 'device'): string {
  for (let i = 0; i < 1_000_000; i++) {
    const id = `${prefix}-${i}`;
    const bucket = bucketOf(salt, id);
    if (bucket >= from && bucket < to) return id;
  }
  throw new Error(`no device in buckets [${from}, ${to})`);
}

/** Starts a release and returns its id (fails the test with the API's answer otherwise). */
export async function startRelease(admin: Http, appId: string, body: Record<string, unknown>): Promise<string> {
  const res = await admin.post(`/v1/apps/${appId}/releases`, body);
  if (res.status !== 201) throw new Error(`release: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Device ids spread over the buckets, for telemetry from many devices. */
export function deviceIds(count: number, prefix = 'fleet'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

export interface TelemetryEvent {
  type: string;
  bundleVersion: string;
  durationMs?: number;
  feature?: string;
}

/** Posts events for many devices concurrently, the way a fleet reports. */
export async function postTelemetry(device: Http, appId: string, perDevice: Array<{ deviceId: string; events: TelemetryEvent[] }>): Promise<void> {
  const at = new Date().toISOString();
  const results = await Promise.all(
    perDevice.map(({ deviceId, events }) =>
      device.post(`/v1/apps/${appId}/events`, {
        deviceId,
        platform: 'android',
        nativeVersion: '2.0.0',
        events: events.map((e) => ({ at, ...e })),
      }),
    ),
  );
  const failed = results.find((r) => r.status !== 202);
  if (failed) throw new Error(`events: ${failed.status} ${JSON.stringify(failed.body)}`);
}

/** Device ids whose bucket for the salt lies in [from, to). */
export function devicesInBuckets(salt: string, from: number, to: number, count: number, prefix = 'device'): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count && i < 10_000_000; i++) {
    const id = `${prefix}-${i}`;
    const bucket = bucketOf(salt, id);
    if (bucket >= from && bucket < to) ids.push(id);
  }
  return ids;
}

/** A bundle as the serving domain holds it, for pure tests of assignment. */
export const bundleRef = (version: string, extra: Partial<BundleRef> = {}): BundleRef => ({
  version,
  url: `https://cdn/${version}.zip`,
  sha256: 'a'.repeat(64),
  size: 10,
  platforms: ['ios', 'android'],
  nativeRange: '*',
  sessionKey: null,
  encryptedChecksum: null,
  signature: null,
  ...extra,
});

/** A running release as the device-facing snapshot holds it, for pure tests of assignment. */
export const servingRelease = (over: Partial<ServingRelease> = {}): ServingRelease => ({
  releaseId: 'r2',
  appId: 'com.example.app',
  channel: 'production',
  bucketSalt: 'salt',
  windowMs: 1000,
  createdAt: 2,
  revision: 1,
  status: 'running',
  stageIndex: 0,
  exposure: { default: 5000 },
  publishedAt: 0,
  target: bundleRef('2.0.0'),
  fallback: bundleRef('1.0.0'),
  ...over,
});

/** A device checking in on the baseline, for pure tests of assignment. */
export const deviceContext = (deviceId: string, over: Partial<DeviceContext> = {}): DeviceContext => ({
  deviceId,
  platform: 'ios',
  nativeVersion: '5.0.0',
  bundleVersion: '1.0.0',
  segment: 'default',
  ...over,
});

/** A release's bucket salt, a secret the API never shows: tests read it where the service keeps it. */
export async function bucketSaltOf(stack: { db: { pool: Queryable } }, releaseId: string): Promise<string> {
  const { rows } = await stack.db.pool.query<{ bucket_salt: string }>('SELECT r.bucket_salt FROM releases r WHERE r.id = $1', [releaseId]);
  if (!rows[0]) throw new Error(`no release ${releaseId}`);
  return rows[0].bucket_salt;
}

/**
 * Devices the app has known for a day: the trust model counts their telemetry toward the gates of any
 * release started since. (A fleet that only appears with a release counts one window after checks serve it.)
 */
export async function establishDevices(stack: { db: { pool: Queryable } }, appId: string, deviceIds: readonly string[]): Promise<void> {
  await stack.db.pool.query(
    `INSERT INTO devices (app_id, device_id, first_seen, last_seen)
     SELECT $1, u.id, now() - interval '1 day', now() - interval '1 day' FROM unnest($2::text[]) AS u (id)
     ON CONFLICT (app_id, device_id) DO UPDATE SET first_seen = LEAST(devices.first_seen, EXCLUDED.first_seen)`,
    [appId, deviceIds],
  );
}
