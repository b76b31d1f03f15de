import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const HISTORIES = path.resolve(__dirname, '../histories');

describe('recorded workflow histories', () => {
  it('replay against the current workflow code without non-determinism', async () => {
    const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual([
      'aborted.json',
      'completed.json',
      'continued-as-new-first-run.json',
      'continued-as-new-last-run.json',
      'experiment-first-run.json',
      'experiment-last-run.json',
      'paused-resumed-promoted.json',
      'rolled-back-by-gate.json',
    ]);
    const histories = await Promise.all(
      files.map(async (file) => ({ workflowId: file.replace(/\.json$/, ''), history: historyFromJSON(JSON.parse(await readFile(path.join(HISTORIES, file), 'utf8'))) })),
    );
    const results: Array<{ workflowId: string; error: unknown }> = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('testEnv').workflowBundlePath } }, histories)) {
      results.push({ workflowId: result.workflowId, error: result.error });
    }
    expect(results.filter((r) => r.error !== undefined).map((r) => `${r.workflowId}: ${String(r.error)}`)).toEqual([]);
    expect(results).toHaveLength(files.length);
  });
});
