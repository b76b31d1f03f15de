import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A directory shaped like `expo export` output: metadata.json naming a Hermes bundle and the assets
 * of each platform, every asset stored under the MD5 of its bytes as Metro names it.
 */
export function writeExpoExport(label: string, platforms: ReadonlyArray<'ios' | 'android'> = ['ios', 'android']): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rampart-expo-export-'));
  mkdirSync(path.join(dir, 'assets'));
  const fileMetadata: Record<string, { bundle: string; assets: Array<{ path: string; ext: string }> }> = {};
  const image = Buffer.from(`\x89PNG image shared by every platform of ${label}`);
  const font = Buffer.from(`font of ${label}`);
  const assets = [
    { bytes: image, ext: 'png' },
    { bytes: font, ext: 'ttf' },
  ].map(({ bytes, ext }) => {
    const name = createHash('md5').update(bytes).digest('hex');
    writeFileSync(path.join(dir, 'assets', name), bytes);
    return { path: `assets/${name}`, ext };
  });
  for (const platform of platforms) {
    const bundleDir = path.join(dir, '_expo', 'static', 'js', platform);
    mkdirSync(bundleDir, { recursive: true });
    const bundle = Buffer.from(`// ${label} for ${platform}\n__d(function(){}, 0);`);
    const name = `entry-${createHash('md5').update(bundle).digest('hex')}.hbc`;
    writeFileSync(path.join(bundleDir, name), bundle);
    fileMetadata[platform] = { bundle: `_expo/static/js/${platform}/${name}`, assets };
  }
  writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify({ version: 0, bundler: 'metro', fileMetadata }));
  return dir;
}
