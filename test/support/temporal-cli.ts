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

/**
 * `temporal workflow signal`, as on-call sends it. A run closing for continue-as-new refuses signals
 * for an instant and the next run takes them, so that refusal is retried, as an engineer would.
 */
export async function signalWorkflow(workflowId: string, name: string, input: unknown): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await temporalCli(['workflow', 'signal', '--workflow-id', workflowId, '--name', name, '--input', JSON.stringify(input)]);
    } catch (err) {
      if (attempt >= 10 || !String(err).includes('workflow is closing')) throw err;
    }
  }
}
