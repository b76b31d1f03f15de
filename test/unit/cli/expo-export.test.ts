import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/command-context';
import { readExpoExport } from '../../../cli/expo-export';
import { writeExpoExport } from '../../support/expo-export-fixture';

describe('readExpoExport (rampart bundles add --expo)', () => {
  it('hashes every file of metadata.json: base64url SHA-256 as hash, MD5 as key, URL under the base URL', () => {
    const dir = writeExpoExport('unit');
    const body = readExpoExport(dir, { version: '1.2.0', runtimeVersion: '1.0.0', baseUrl: 'https://cdn.example.com/app/1.2.0/' });
    const metadata = JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as { fileMetadata: Record<string, { bundle: string; assets: Array<{ path: string; ext: string }> }> };
    const bytes = (relative: string) => readFileSync(path.join(dir, relative));
    expect(Object.keys(body.platforms)).toEqual(['ios', 'android']);
    const ios = body.platforms.ios!;
    const bundle = metadata.fileMetadata.ios!.bundle;
    expect(ios.launchAsset).toEqual({
      hash: createHash('sha256').update(bytes(bundle)).digest('base64url'),
      key: createHash('md5').update(bytes(bundle)).digest('hex'),
      contentType: 'application/javascript',
      url: `https://cdn.example.com/app/1.2.0/${bundle}`,
    });
    expect(ios.assets.map((a) => [a.contentType, a.fileExtension, a.key === path.basename(a.url)])).toEqual([
      ['image/png', '.png', true],
      ['font/ttf', '.ttf', true],
    ]);
    const files = [bundle, metadata.fileMetadata.android!.bundle, ...metadata.fileMetadata.ios!.assets.map((a) => a.path), ...metadata.fileMetadata.android!.assets.map((a) => a.path)];
    expect(body.size).toBe(files.reduce((sum, f) => sum + bytes(f).length, 0));
    expect(readExpoExport(dir, { version: '1.2.0', runtimeVersion: '1.0.0', baseUrl: 'https://cdn.example.com', platforms: ['android'] }).platforms).not.toHaveProperty('ios');
  });

  it('refuses a directory without metadata.json, or one naming files outside it', () => {
    const dir = writeExpoExport('bad', ['ios']);
    expect(() => readExpoExport(path.join(dir, 'assets'), { version: '1.0.0', runtimeVersion: '1', baseUrl: 'https://x' })).toThrow(UsageError);
    writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify({ fileMetadata: { ios: { bundle: '../../etc/passwd', assets: [] } } }));
    expect(() => readExpoExport(dir, { version: '1.0.0', runtimeVersion: '1', baseUrl: 'https://x' })).toThrow(/outside/);
    expect(() => readExpoExport(dir, { version: '1.0.0', runtimeVersion: '1', baseUrl: 'https://x', platforms: ['android'] })).toThrow(/no android files/);
  });
});
