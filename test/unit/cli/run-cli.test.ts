import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/command-context';
import type { RampartClient } from '../../../cli/rampart-client';
import { runCli } from '../../../cli/run-cli';

const noApi = (): RampartClient => {
  throw new Error('help and usage mistakes must not need the API');
};

async function run(...args: string[]) {
  let written = '';
  await runCli(args, noApi, { write: (text) => (written += text), tty: false });
  return written;
}

describe('runCli', () => {
  it('prints the whole usage for --help, and one group for <group> --help', async () => {
    const all = await run('--help');
    expect(all).toContain('rampart segments create <appId> <key> --rule <json|@file.json>');
    expect(all).toContain('rampart release watch <releaseId>');
    const segments = await run('segments', '--help');
    expect(segments).toContain('rampart segments delete <appId> <key>');
    expect(segments).not.toContain('rampart release watch');
    expect(await run('help', 'webhooks')).toContain('rampart webhooks create <appId> <url>');
  });

  it('refuses unknown commands and options as usage mistakes', async () => {
    await expect(run('frobnicate')).rejects.toThrow(new UsageError('unknown command "frobnicate"'));
    await expect(run('segments')).rejects.toThrow('"segments" needs a command');
    await expect(run('apps', 'list', '--bogus')).rejects.toBeInstanceOf(UsageError);
  });

  it('knows keys and audit, where audit is a command of its own that takes no action word', async () => {
    expect(await run('keys', '--help')).toContain('rampart keys create <name> --role admin|release|oncall|viewer');
    expect(await run('audit', '--help')).toContain('rampart audit [--app <appId>] [--actor key:<keyId>] [--action <action>] [--since <time|24h>]');
    await expect(run('audit', 'everything')).rejects.toThrow('unknown command "audit everything"');
    await expect(run('keys')).rejects.toThrow('"keys" needs a command');
  });

  it('checks JSON options before calling the API', async () => {
    const client = {} as RampartClient;
    const attempt = runCli(['segments', 'create', 'com.example.app', 'eu', '--rule', '{not json'], () => client, { write: () => undefined, tty: false });
    await expect(attempt).rejects.toThrow(/--rule must be JSON or @file.json/);
  });
});
