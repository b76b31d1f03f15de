import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '../..');
export const UI_DIST = path.join(ROOT, 'dist', 'ui');
const UI_SOURCES = path.join(ROOT, 'ui');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds the dashboard when it was never built (a fresh clone) or its sources changed since. */
export async function ensureUiBuilt(): Promise<string> {
  const index = path.join(UI_DIST, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestSource(UI_SOURCES)) return UI_DIST;
  await promisify(execFile)(path.join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--config', 'ui/vite.config.mts'], { cwd: ROOT });
  return UI_DIST;
}
