import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { sha256Of } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const MAIN = path.join(ROOT, 'cli/main.ts');
const ESC = '\u001b[';

/** A long-running command whose output the test waits on, condition by condition. */
function follow(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return {
    output,
    exited,
    async until(predicate: (stdout: string) => boolean): Promise<void> {
      while (!predicate(output.stdout)) {
        const ended = exited.then(() => {
          if (!predicate(output.stdout)) throw new Error(`${command} exited first; stdout ${output.stdout} stderr ${output.stderr}`);
        });
        await Promise.race([once(child.stdout, 'data'), ended]);
      }
    },
  };
}

describe('the rampart CLI', () => {
  const ctx = useTestStack();
  const env = () => ({ ...process.env, RAMPART_URL: ctx.stack.baseUrl, RAMPART_API_KEY: ctx.stack.adminKey });
  const settle = (result: { stdout: string; stderr: string } | { stdout: string; stderr: string; code: number }) => ({
    stdout: result.stdout,
    stderr: result.stderr,
    code: 'code' in result ? result.code : 0,
  });
  const cli = async (...args: string[]) => settle(await run(TSX, [MAIN, ...args], { env: env() }).catch((err: { stdout: string; stderr: string; code: number }) => err));
  /** A shell pipeline, with pipefail so the CLI's own exit code counts. */
  const pipeline = async (command: string) =>
    settle(await run('bash', ['-c', `set -o pipefail; ${command}`], { env: env() }).catch((err: { stdout: string; stderr: string; code: number }) => err));

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
    const event = { deviceId: 'cli-device', platform: 'ios', nativeVersion: '2.1.0', events: [{ type: 'session_start', bundleVersion: '1.2.0', at: new Date().toISOString() }] };
    expect((await ctx.device.post('/v1/apps/com.example.cli/events', event)).status).toBe(202);
    const insights = await cli('release', 'insights', id, '--step', '5m');
    expect(insights.stdout).toContain(`release ${id}  com.example.cli 1.2.0 on production, running`);
    expect(insights.stdout).toMatch(/^segment\s+exposure\s+adoption\s+to 95 %/m);
    expect(insights.stdout).toMatch(/^default\s+100\.00 %\s+100\.0 % \(1\/1\)\s+\d/m);
    expect((await cli('release', 'abort', id, '--reason', 'done testing')).stdout).toMatch(/status aborted/);
    expect((await cli('release', 'insights', id)).stdout).toContain('still on the withdrawn 1.2.0: default 1 devices');
    expect(JSON.parse((await cli('release', 'insights', id, '--json')).stdout)).toMatchObject({ releaseId: id, step: '1h', adoption: [{ segment: 'default', devicesOnWithdrawnBundle: 1 }] });
  });

  it('manages segments, channels, webhooks and bundles, with --json for scripts', async () => {
    const app = 'com.example.cli2';
    await cli('apps', 'create', app, '--name', 'CLI app 2');
    await cli('bundles', 'add', app, '2.0.0', '--url', 'https://cdn.example.com/2.0.0.zip', '--sha256', sha256Of('2.0.0'), '--size', '2048');
    expect((await cli('bundles', 'list', app)).stdout).toMatch(/^2\.0\.0\s+native \*\s+ios,android\s+2048 B$/m);

    const [before] = (JSON.parse((await cli('app', 'signing-key', app, '--json')).stdout) as { keys: Array<{ id: string; status: string }> }).keys;
    expect(before).toMatchObject({ status: 'active' });
    const rotated = await cli('app', 'rotate-signing-key', app);
    expect(rotated.stdout).toMatch(/^rotated: /);
    expect(rotated.stdout).toMatch(new RegExp(`^${before!.id}\\s+previous\\s+ed25519`, 'm'));
    expect((await cli('app', 'signing-key', app)).stdout).toMatch(/^\S+\s+active\s+ed25519\s+created /m);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-cli-'));
    await writeFile(path.join(dir, 'rule.json'), JSON.stringify({ attribute: 'platform', op: 'eq', value: 'ios' }));
    const created = await cli('segments', 'create', app, 'ios-night', '--rule', `@${path.join(dir, 'rule.json')}`, '--priority', '5', '--window', '{"days":[6],"start":"02:00","end":"04:00","timeZone":"UTC"}');
    expect(created.stdout).toContain('created segment ios-night');
    expect(created.stdout).toContain('window Sat 02:00-04:00 UTC');
    const listed = JSON.parse((await cli('segments', 'list', app, '--json')).stdout) as { segments: Array<{ key: string; priority: number; rule: unknown }> };
    expect(listed.segments.find((s) => s.key === 'ios-night')).toMatchObject({ priority: 5, rule: { attribute: 'platform', op: 'eq', value: 'ios' } });
    expect((await cli('segments', 'create', app, 'bad', '--rule', '{oops')).stderr).toContain('--rule must be JSON or @file.json');
    expect((await cli('segments', 'delete', app, 'ios-night')).stdout).toBe('deleted segment ios-night\n');
    expect((await cli('segments', 'list', app)).stdout).not.toContain('ios-night');

    await cli('channels', 'create', app, 'beta');
    expect((await cli('channels', 'update', app, 'beta', '--no-public', '--self-assign', '--platforms', 'ios')).stdout).toMatch(/^beta\s+private\s+self-assign\s+ios\s/m);
    const updated = JSON.parse((await cli('channels', 'update', app, 'beta', '--no-self-assign', '--json')).stdout) as { public: boolean; allowSelfAssign: boolean; platforms: string[] };
    expect(updated).toMatchObject({ public: false, allowSelfAssign: false, platforms: ['ios'] });
    // production is public on every platform already: the API's reason reaches the user as is.
    expect((await cli('channels', 'update', app, 'beta', '--public')).stderr).toContain('one public channel per platform');

    const hook = await cli('webhooks', 'create', app, 'https://hooks.example.com/rampart', '--events', 'paused,rolled_back');
    expect(hook.stdout).toMatch(/^created webhook \S+\s+https:\/\/hooks\.example\.com\/rampart\s+paused,rolled_back$/m);
    expect(hook.stdout).toMatch(/^secret \S{16,}$/m);
    const hooks = JSON.parse((await cli('webhooks', 'list', app, '--json')).stdout) as { webhooks: Array<{ id: string; secret?: string }> };
    expect(hooks.webhooks).toHaveLength(1);
    expect(hooks.webhooks[0]!.secret).toBeUndefined();
    expect((await cli('webhooks', 'delete', app, hooks.webhooks[0]!.id)).code).toBe(0);
    expect((await cli('webhooks', 'list', app)).stdout).toBe('no webhooks\n');
  });

  it('follows a release live: piped, on a terminal, into head; and names --supersede for a busy channel', async () => {
    const app = 'com.example.watch';
    await cli('apps', 'create', app, '--name', 'Watched');
    await cli('bundles', 'add', app, '3.0.0', '--url', 'https://cdn.example.com/3.0.0.zip', '--sha256', sha256Of('3.0.0'), '--size', '2048');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-cli-'));
    const planFile = path.join(dir, 'plan.json');
    // Checked every half second, so the state (gate time, soak) changes under the watchers' eyes.
    await writeFile(planFile, JSON.stringify({ stages: [{ exposureBps: 500, minSoakMs: 600_000, maxSoakMs: 1_200_000, checkIntervalMs: 500, gates: [] }, { exposureBps: 10_000, minSoakMs: 600_000, gates: [] }] }));
    const first = JSON.parse((await cli('releases', 'start', app, '3.0.0', '--plan', planFile, '--json')).stdout) as { id: string };
    const busy = await cli('releases', 'start', app, '3.0.0', '--plan', planFile);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`release ${first.id} (3.0.0) is still running on channel production`);
    expect(busy.stderr).toContain('re-run the command with --supersede');
    expect(busy.stderr).not.toContain('"supersede": true');
    const id = (JSON.parse((await cli('releases', 'start', app, '3.0.0', '--plan', planFile, '--supersede', '--json')).stdout) as { id: string }).id;
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    expect((await cli('releases', 'list', app, '--status', 'aborted')).stdout).toMatch(new RegExp(`^${first.id}\\s+3\\.0\\.0\\s+production\\s+aborted`, 'm'));

    const piped = follow(TSX, [MAIN, 'release', 'watch', id], env());
    const onTerminal = follow('script', ['-qfec', `${TSX} ${MAIN} release watch ${id}`, '/dev/null'], env());
    await piped.until((out) => /soaked .* of 10 m minimum/.test(out) && out.split('\n').length > 2);
    await onTerminal.until((out) => new RegExp(`\\u001b\\[\\d+A\\r\\u001b\\[J`).test(out) && out.includes('next check'));
    // Adoption per segment moves with the fleet: one device reports on the release's bundle.
    await onTerminal.until((out) => out.includes('adoption default –, not at 95 % yet'));
    const event = { deviceId: 'watched-device', platform: 'android', nativeVersion: '2.0.0', events: [{ type: 'session_start', bundleVersion: '3.0.0', at: new Date().toISOString() }] };
    expect((await ctx.device.post(`/v1/apps/${app}/events`, event)).status).toBe(202);
    await piped.until((out) => /\| adoption default 100\.0 % \(1\/1\), 95 % after /.test(out));
    await onTerminal.until((out) => out.includes('adoption default 100.0 % (1/1), 95 % after '));

    // The watch writes on every check, so head's exit is met by EPIPE, which must end it quietly.
    const head = await pipeline(`${TSX} ${MAIN} release watch ${id} | head -1`);
    expect(head).toMatchObject({ code: 0, stderr: '' });
    expect(head.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z {2}running stage 1\/2 /);
    const show = await pipeline(`${TSX} ${MAIN} release show ${id} | head -1`);
    expect(show).toMatchObject({ code: 0, stderr: '', stdout: `release ${id}  ${app} 3.0.0 on production (baseline builtin)\n` });

    await cli('release', 'pause', id, '--reason', 'watching the watchers');
    const shown = (await cli('release', 'show', id)).stdout;
    expect(shown).toMatch(/soaked \S+( \S+)? of 10 m minimum \(.* to go\), pauses for a human at 20 m without a verdict/);
    // A check already under way when the pause landed reports after it, and is then rightly current:
    // the verdict is stale exactly when the pause came later.
    const gateAt = Date.parse(/^gates continue at (\S+Z) \(stage 1\)/m.exec(shown)![1]!);
    const pausedAt = Date.parse(/^ {2}(\S+Z) {2}paused +key:bootstrap-admin/m.exec(shown)![1]!);
    expect(/^ {2}stale: paused by key:bootstrap-admin at \S+Z came after this verdict$/m.test(shown)).toBe(pausedAt > gateAt);
    await piped.until((out) => /Z {2}paused .* \| last paused by key:bootstrap-admin/.test(out));
    await onTerminal.until((out) => out.includes('status paused'));
    await cli('release', 'abort', id, '--reason', 'seen enough');

    expect(await piped.exited).toBe(0);
    expect(await onTerminal.exited).toBe(0);
    const lines = piped.output.stdout.trimEnd().split('\n');
    expect(piped.output.stdout).not.toContain(ESC);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z {2}(running|paused|aborted) stage 1\/2 /);
    const states = lines.map((l) => l.slice(l.indexOf('  ') + 2));
    for (let i = 1; i < states.length; i++) expect(states[i]).not.toBe(states[i - 1]);
    expect(lines.at(-1)).toMatch(/ {2}aborted stage 1\/2 .*exposure default 0\.00 % .*last aborted by key:bootstrap-admin/);
    expect(onTerminal.output.stdout).toContain('status aborted');
    expect(onTerminal.output.stdout).toContain('the release has ended');
  });

  it('tells a device\'s story and the adoption of a channel', async () => {
    const appId = 'com.example.cli.story';
    expect((await cli('apps', 'create', appId, '--name', 'Story')).code).toBe(0);
    await vi.waitFor(() => expect(ctx.stack.api.deps.snapshot.app(appId)).toBeDefined(), { timeout: 15_000, interval: 50 });
    const check = await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: 'd-1', platform: 'ios', nativeVersion: '3.1.0', bundleVersion: 'builtin' });
    expect(check.status).toBe(200);
    await vi.waitFor(async () => expect((await ctx.admin.get(`/v1/apps/${appId}/devices/d-1`)).status).toBe(200), { timeout: 15_000, interval: 50 });

    const story = await cli('device', 'explain', appId, 'd-1');
    expect(story.code).toBe(0);
    expect(story.stdout).toMatch(/channel production \[requested\]/);
    expect(story.stdout).toMatch(/segment default: no rule matched → default/);
    expect(story.stdout).toMatch(/no release on this channel/);
    expect(JSON.parse((await cli('device', 'explain', appId, 'd-1', '--json')).stdout)).toMatchObject({ deviceId: 'd-1', answers: { native: { action: 'none' } } });

    const adoption = await cli('app', 'adoption', appId, '--channel', 'production', '--window', '48');
    expect(adoption).toMatchObject({ code: 0 });
    expect(adoption.stdout).toMatch(/1 devices active in the last 48 h on production\nbuiltin +1 devices +100\.0 %/);
    const refused = await cli('app', 'adoption', appId, '--window', '900');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/1 to 720/);
  });

  it('says what is missing instead of guessing, and helps when asked', async () => {
    const missing = await cli('release', 'pause', 'x');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('rampart: missing --reason');
    const unknown = await cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(unknown.stderr).toContain('rampart release watch <releaseId>');

    const help = await cli('--help');
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('rampart webhooks create <appId> <url>');
    const groupHelp = await cli('channels', '--help');
    expect(groupHelp.code).toBe(0);
    expect(groupHelp.stdout).toContain('rampart channels update <appId> <name> [--public|--no-public] [--self-assign|--no-self-assign]');
    expect(groupHelp.stdout).not.toContain('rampart segments');
  });
});
