import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

async function composeCli(): Promise<string[]> {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    const ok = await run(candidate[0]!, [...candidate.slice(1), 'version']).then(
      () => true,
      () => false,
    );
    if (ok) return candidate;
  }
  throw new Error('validating docker-compose.yml needs Docker Compose: install Debian\'s package (apt-get install docker-compose) or the Docker Compose plugin');
}

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  ports?: Array<string | { published: string | number; target: number }>;
  depends_on?: Record<string, { condition: string }>;
  build?: unknown;
  image?: string;
}

describe('deployment files', () => {
  it('docker-compose.yml is valid and wires PostgreSQL, Temporal, its UI, the worker and the API together', async () => {
    const [cli, ...args] = await composeCli();
    const { stdout } = await run(cli!, [...args, '-f', path.join(ROOT, 'docker-compose.yml'), 'config'], {
      cwd: ROOT,
      env: { ...process.env, RAMPART_ADMIN_KEY: 'compose-test-admin-key' },
    });
    const config = parse(stdout) as { services: Record<string, ComposeService> };
    expect(Object.keys(config.services).sort()).toEqual(['api', 'postgresql', 'temporal', 'temporal-ui', 'worker']);
    const { api, worker, temporal } = config.services;
    for (const service of [api!, worker!]) {
      expect(service.environment).toMatchObject({
        DATABASE_URL: 'postgres://postgres:rampart@postgresql:5432/rampart',
        TEMPORAL_ADDRESS: 'temporal:7233',
      });
      expect(Object.keys(service.depends_on ?? {}).sort()).toEqual(['postgresql', 'temporal']);
      expect(service.build).toBeDefined();
    }
    expect(api!.environment?.RAMPART_ADMIN_KEY).toBe('compose-test-admin-key');
    expect(api!.command).toEqual(['node', 'dist/api/main.js']);
    expect(worker!.command).toEqual(['node', 'dist/worker/main.js']);
    expect(temporal!.image).toMatch(/^temporalio\/auto-setup:/);
    expect(JSON.stringify(api!.ports)).toContain('8080');
  });

  it('npm run build produces what the Dockerfile runs: both entry points, the workflow bundle and the migrations', async () => {
    const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/WORKFLOW_BUNDLE_PATH=\/app\/dist\/workflow-bundle\.js/);
    await run('npm', ['run', 'build'], { cwd: ROOT, timeout: 300_000 });
    for (const file of ['dist/api/main.js', 'dist/worker/main.js', 'dist/workflow-bundle.js', 'dist/db/migrations/0001_foundation.sql']) {
      await expect(access(path.join(ROOT, file))).resolves.toBeUndefined();
    }
    const { stderr } = await run('node', ['dist/api/main.js'], { cwd: ROOT, env: { ...process.env, PORT: 'not-a-port' } }).catch((err: { stderr: string }) => err);
    expect(stderr).toMatch(/invalid configuration:[\s\S]*PORT/);
  });
});
