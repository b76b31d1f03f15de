import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './command-context';

const EXPO_PLATFORMS = ['ios', 'android'] as const;
type ExpoPlatform = (typeof EXPO_PLATFORMS)[number];

// The files an Expo app's assets usually are; expo-updates stores each under its content type.
const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  svg: 'image/svg+xml',
  ttf: 'font/ttf',
  otf: 'font/otf',
  woff: 'font/woff',
  woff2: 'font/woff2',
  json: 'application/json',
  js: 'application/javascript',
  html: 'text/html',
  css: 'text/css',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  pdf: 'application/pdf',
};

interface ExportMetadata {
  fileMetadata?: Partial<Record<string, { bundle?: unknown; assets?: unknown }>>;
}

interface Asset {
  hash: string;
  key: string;
  contentType: string;
  fileExtension?: string;
  url: string;
}

/** The body of `POST /v1/apps/:appId/expo/bundles` for one `expo export` output directory. */
export interface ExpoBundleBody {
  version: string;
  runtimeVersion: string;
  size: number;
  platforms: Partial<Record<ExpoPlatform, { launchAsset: Omit<Asset, 'fileExtension'>; assets: Asset[] }>>;
}

function readFile(distDir: string, relative: string): Buffer {
  const resolved = path.resolve(distDir, relative);
  if (!resolved.startsWith(path.resolve(distDir) + path.sep)) throw new UsageError(`--expo: ${relative} in metadata.json lies outside ${distDir}`);
  try {
    return readFileSync(resolved);
  } catch (err) {
    throw new UsageError(`--expo: cannot read ${relative} (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * Reads `expo export` output (metadata.json and the files it lists) into a bundle registration: each
 * file's key is its MD5 (what the bundler's asset registry refers to it by, and the name `expo export`
 * gives it), its hash the base64url SHA-256 the client verifies, its URL the file's path under
 * `baseUrl` (the CDN the directory is uploaded to, as it is).
 */
export function readExpoExport(distDir: string, options: { version: string; runtimeVersion: string; baseUrl: string; platforms?: string[] }): ExpoBundleBody {
  let metadata: ExportMetadata;
  try {
    metadata = JSON.parse(readFileSync(path.join(distDir, 'metadata.json'), 'utf8')) as ExportMetadata;
  } catch (err) {
    throw new UsageError(`--expo: ${distDir} needs the metadata.json that expo export writes (${err instanceof Error ? err.message : String(err)})`);
  }
  const base = options.baseUrl.replace(/\/+$/, '');
  const urlOf = (relative: string) => `${base}/${relative.split(/[\\/]/).map(encodeURIComponent).join('/')}`;
  let size = 0;
  const describe = (relative: string) => {
    const bytes = readFile(distDir, relative);
    size += bytes.length;
    return { hash: createHash('sha256').update(bytes).digest('base64url'), key: createHash('md5').update(bytes).digest('hex'), url: urlOf(relative) };
  };

  const platforms: ExpoBundleBody['platforms'] = {};
  const wanted = options.platforms ?? [...EXPO_PLATFORMS];
  for (const platform of EXPO_PLATFORMS) {
    const files = metadata.fileMetadata?.[platform];
    if (!files || !wanted.includes(platform)) continue;
    if (typeof files.bundle !== 'string') throw new UsageError(`--expo: metadata.json names no bundle for ${platform}`);
    const assets = Array.isArray(files.assets) ? (files.assets as Array<{ path?: unknown; ext?: unknown }>) : [];
    platforms[platform] = {
      launchAsset: { ...describe(files.bundle), contentType: 'application/javascript' },
      assets: assets.map((asset) => {
        if (typeof asset.path !== 'string') throw new UsageError(`--expo: an asset of ${platform} in metadata.json has no path`);
        const ext = typeof asset.ext === 'string' ? asset.ext.replace(/^\./, '') : '';
        return { ...describe(asset.path), contentType: CONTENT_TYPES[ext.toLowerCase()] ?? 'application/octet-stream', ...(ext ? { fileExtension: `.${ext}` } : {}) };
      }),
    };
  }
  if (Object.keys(platforms).length === 0) throw new UsageError(`--expo: metadata.json in ${distDir} has no ${wanted.join(' or ')} files`);
  return { version: options.version, runtimeVersion: options.runtimeVersion, size, platforms };
}
