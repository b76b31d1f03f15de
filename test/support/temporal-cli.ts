import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { findTemporalCli } from '../../platform/temporal-dev-server';

const run = promisify(execFile);

/** Runs the real `temporal` CLI against the test server, as an on-call engineer would. */
export async function temporalCli(args: string[]): Promise<string> {
  const cli = await findTemporalCli();
  const { stdout } = await run(cli, [...args, '--address', inject('testEnv').temporalAddress], { timeout: 30_000 });
  return stdout;
}
