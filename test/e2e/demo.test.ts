import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnProcess } from '../support/processes';
import { useTestStack } from '../support/test-stack';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const DEMO_TIMEOUT_MS = 200_000;

// The README's walkthrough: against a running stack with its default device limits, `npm run demo`
// takes a good release to 100 % and has the gates roll a bad one back.
describe('npm run demo', () => {
  const ctx = useTestStack();
  const demo = (args: string[]) =>
    spawnProcess(TSX, ['scripts/demo.ts', ...args], { ...process.env, RAMPART_URL: ctx.stack.baseUrl, RAMPART_API_KEY: ctx.stack.adminKey }, ROOT);

  it('walks a good release to completion and a bad one to a rollback that sends every device back', async () => {
    const run = demo(['--app', 'com.example.walkthrough', '--devices', '600', '--seed', '11']);
    const exit = await run.exited;
    const output = run.output.join('\n');
    expect(exit.code, output).toBe(0);
    expect(output).toMatch(/good release: release \S+ completed after/);
    expect(output).toMatch(/on the new bundle after checking again: 100\.0 %/);
    expect(output).toMatch(/bad release \(5 × the crash rate\): release \S+ rolled back after[\s\S]*why: crash on default/);
    expect(output).toMatch(/still on the withdrawn bundle after checking again: 0/);
    expect(output).toContain('demo done: every release ended as expected.');
  }, DEMO_TIMEOUT_MS);

  it('explains itself and refuses what it does not know', async () => {
    const help = demo(['--help']);
    expect((await help.exited).code).toBe(0);
    expect(help.output.join('\n')).toContain('usage: npm run demo -- [options]');
    const wrong = demo(['--speed', 'fast']);
    expect((await wrong.exited).code).toBe(2);
    expect(wrong.output.join('\n')).toMatch(/demo: Unknown option '--speed'[\s\S]*usage: npm run demo/);
    const badShare = demo(['--attribute', 'plan=enterprise:2']);
    expect((await badShare.exited).code).toBe(2);
    expect(badShare.output.join('\n')).toContain('the share of --attribute plan must be from 0 to 1; got 2');
  });
});
