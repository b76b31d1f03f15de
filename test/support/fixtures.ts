import { createHash } from 'node:crypto';
import { bucketOf } from '../../domain/bucketing';
import type { Http } from './http';

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
