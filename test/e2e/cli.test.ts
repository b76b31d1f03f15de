import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sha256Of } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

describe('the rampart CLI', () => {
  const ctx = useTestStack();
  const cli = async (...args: string[]) => {
    const result = await run(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'cli/main.ts'), ...args], {
      env: { ...process.env, RAMPART_URL: ctx.stack.baseUrl, RAMPART_API_KEY: ctx.stack.adminKey },
    }).catch((err: { stdout: string; stderr: string; code: number }) => err);
    return { stdout: result.stdout, stderr: result.stderr, code: 'code' in result ? result.code : 0 };
  };

  it('takes a release engineer from app to release, and on-call through pause, resume and promote', async () => {
    expect((await cli('apps', 'create', 'com.example.cli', '--name', 'CLI app')).stdout).toContain('created app com.example.cli');
    const bundle = await cli('bundles', 'add', 'com.example.cli', '1.2.0', '--url', 'https://cdn.example.com/1.2.0.zip', '--sha256', sha256Of('1.2.0'), '--size', '4096', '--native-range', '>=2.0.0');
    expect(bundle.stdout).toContain('added bundle 1.2.0 (native >=2.0.0, ios, android)');
    expect((await cli('channels', 'list', 'com.example.cli')).stdout).toMatch(/^production\s+public/m);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-cli-'));
    const planFile = path.join(dir, 'plan.json');
    await writeFile(planFile, JSON.stringify({ stages: [{ exposureBps: 500, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] }, { exposureBps: 10_000, minSoakMs: 600_000, gates: [] }] }));
    const started = await cli('releases', 'start', 'com.example.cli', '1.2.0', '--plan', planFile, '--json');
    const id = (JSON.parse(started.stdout) as { id: string }).id;
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');

    const show = await cli('release', 'show', id);
    expect(show.stdout).toContain(`release ${id}  com.example.cli 1.2.0 on production (baseline builtin)`);
    expect(show.stdout).toMatch(/status running\s+stage 1\/2/);
    expect(show.stdout).toContain('exposure default 5.00 %');

    const paused = await cli('release', 'pause', id, '--reason', 'checking crash reports');
    expect(paused.stdout).toMatch(/status paused/);
    expect(paused.stdout).toMatch(/paused\s+key:bootstrap-admin\s+checking crash reports/);
    const refused = await cli('release', 'pause', id, '--reason', 'again');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already paused (command_refused, HTTP 409)');
    expect((await cli('release', 'resume', id, '--reason', 'all clear')).stdout).toMatch(/status running/);
    expect((await cli('release', 'promote', id, '--reason', 'looks good')).stdout).toContain('exposure default 100.00 %');
    expect((await cli('releases', 'list', 'com.example.cli')).stdout).toMatch(new RegExp(`^${id}\\s+1\\.2\\.0\\s+production\\s+running`, 'm'));
    expect((await cli('release', 'abort', id, '--reason', 'done testing')).stdout).toMatch(/status aborted/);
  });

  it('says what is missing instead of guessing', async () => {
    const missing = await cli('release', 'pause', 'x');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('rampart: missing --reason');
    expect((await cli('frobnicate')).stderr).toContain('unknown command "frobnicate"');
  });
});
