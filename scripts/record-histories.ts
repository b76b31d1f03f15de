import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startLocalStack } from './support/local-stack';
import { createRampartClient } from '../cli/rampart-client';
import { bucketOf } from '../domain/bucketing';
import { createLogger } from '../platform/logger';
import { SHORT_HISTORY_CONTINUE_AS_NEW } from '../platform/temporal-dev-server';

/*
 * `npm run record:histories [-- <name>...]`: runs representative releases against a fresh dev server
 * and writes their workflow histories to test/histories/, which the test suite replays against the
 * current workflow code. Name the histories to record (e.g. a new workflow's) so the others keep
 * the older code's histories; record one again only for a deliberate, patched change of behaviour.
 */

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'test/histories');
const logger = createLogger('record-histories', 'warn');

async function main(): Promise<void> {
  const stack = await startLocalStack({ database: 'rampart_record_histories', logger, suggestContinueAsNewAfter: SHORT_HISTORY_CONTINUE_AS_NEW });
  const { api, temporal, adminKey: key, baseUrl: base } = stack;

  const admin = createRampartClient(base, key);
  const release = async (appId: string, version: string, plan: unknown) => {
    await admin.post('/v1/apps', { id: appId, name: appId }).catch(() => undefined);
    await admin.post(`/v1/apps/${appId}/bundles`, { version, url: `https://cdn.example.com/${version}.zip`, sha256: 'a'.repeat(64), size: 1000 });
    return (await admin.post(`/v1/apps/${appId}/releases`, { version, plan })).id as string;
  };
  const handle = (id: string, runId?: string) => temporal.workflow.getHandle(`release-${id}`, runId);
  const save = async (name: string, id: string, runId?: string) => {
    const history = await handle(id, runId).fetchHistory();
    await writeFile(path.join(OUT, `${name}.json`), `${historyToJSON(history)}\n`);
    process.stdout.write(`recorded ${name} (${history.events?.length ?? 0} events)\n`);
  };
  const waitFor = async (id: string, status: string) => {
    for (let i = 0; i < 600; i++) {
      if (api.deps.snapshot.release(id)?.status === status) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`release ${id} never became ${status}`);
  };
  const events = (appId: string, deviceId: string, list: Array<{ type: string; bundleVersion: string }>) =>
    fetch(`${base}/v1/apps/${appId}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId, platform: 'ios', nativeVersion: '1.0.0', events: list.map((e) => ({ ...e, at: new Date().toISOString() })) }),
    });

  const quick = { stages: [{ exposureBps: 2000, minSoakMs: 600, checkIntervalMs: 200, gates: [] }, { exposureBps: 10_000, minSoakMs: 400, checkIntervalMs: 200, gates: [] }] };
  const scenarios: Record<string, () => Promise<void>> = {
    completed: async () => {
      const completed = await release('com.example.history.completed', '1.0.0', quick);
      await handle(completed).result();
      await save('completed', completed);
    },
    'paused-resumed-promoted': async () => {
      const paused = await release('com.example.history.paused', '1.0.0', {
        stages: [{ exposureBps: 2000, minSoakMs: 1500, checkIntervalMs: 200, gates: [] }, { exposureBps: 10_000, minSoakMs: 300, checkIntervalMs: 200, gates: [] }],
      });
      await waitFor(paused, 'running');
      await admin.post(`/v1/releases/${paused}/pause`, { reason: 'record a pause' });
      await temporal.workflow.getHandle(`release-${paused}`).signal('resume', { actor: 'oncall:recorder', reason: 'resume by signal' });
      await admin.post(`/v1/releases/${paused}/promote`, { reason: 'record a promote' });
      await handle(paused).result();
      await save('paused-resumed-promoted', paused);
    },
    'rolled-back-by-gate': async () => {
      const badApp = 'com.example.history.rollback';
      const bad = await release(badApp, '1.0.0', {
        stages: [{ exposureBps: 3000, minSoakMs: 60_000, checkIntervalMs: 200, gates: [{ kind: 'ratio', metric: 'crash' }, { kind: 'tripwire', metric: 'boot_failed' }] }, { exposureBps: 10_000, minSoakMs: 300 }],
      });
      await waitFor(bad, 'running');
      const salt = bad;
      const posts: Array<Promise<Response>> = [];
      for (let i = 0; posts.length < 120; i++) {
        const deviceId = `device-${i}`;
        const bucket = bucketOf(salt, deviceId);
        if (bucket < 3000) posts.push(events(badApp, deviceId, [{ type: 'session_start', bundleVersion: '1.0.0' }, { type: 'crash', bundleVersion: '1.0.0' }]));
        else if (bucket < 6000) posts.push(events(badApp, deviceId, [{ type: 'session_start', bundleVersion: 'builtin' }]));
      }
      await Promise.all(posts);
      await handle(bad).result();
      await save('rolled-back-by-gate', bad);
    },
    'continued-as-new': async () => {
      const longBake = await release('com.example.history.continued', '1.0.0', {
        stages: [{ exposureBps: 500, minSoakMs: 3000, checkIntervalMs: 150, gates: [] }, { exposureBps: 10_000, minSoakMs: 300, checkIntervalMs: 150, gates: [] }],
      });
      const firstRun = (await handle(longBake).describe()).runId;
      await handle(longBake).result();
      await save('continued-as-new-first-run', longBake, firstRun);
      await save('continued-as-new-last-run', longBake);
    },
    aborted: async () => {
      const aborted = await release('com.example.history.aborted', '1.0.0', { stages: [{ exposureBps: 100, minSoakMs: 60_000, checkIntervalMs: 200, gates: [] }, { exposureBps: 10_000, minSoakMs: 100 }] });
      await waitFor(aborted, 'running');
      await admin.post(`/v1/releases/${aborted}/abort`, { reason: 'record an abort' });
      await handle(aborted).result();
      await save('aborted', aborted);
    },
    experiment: async () => {
      const appId = 'com.example.history.experiment';
      await admin.post('/v1/apps', { id: appId, name: appId }).catch(() => undefined);
      for (const version of ['1.1.0', '1.2.0']) {
        await admin.post(`/v1/apps/${appId}/bundles`, { version, url: `https://cdn.example.com/${version}.zip`, sha256: 'a'.repeat(64), size: 1000 });
      }
      const id = (
        await admin.post(`/v1/apps/${appId}/experiments`, {
          arms: [{ key: 'a' }, { key: 'b', version: '1.1.0' }, { key: 'c', version: '1.2.0', installMode: 'immediate' }],
          primaryMetric: 'session_duration',
          plan: { stages: [{ exposureBps: 5000, minSoakMs: 600, checkIntervalMs: 200 }, { exposureBps: 10_000, minSoakMs: 60_000, checkIntervalMs: 200 }] },
        })
      ).id as string;
      await waitFor(id, 'running');
      // The recorder's server suggests continue-as-new early: the first run holds the commands, the last the end.
      const firstRun = (await handle(id).describe()).runId;
      await admin.post(`/v1/releases/${id}/pause`, { reason: 'record a pause' });
      await admin.post(`/v1/releases/${id}/resume`, { reason: 'record a resume' });
      await admin.post(`/v1/releases/${id}/stop-arm`, { arm: 'c', reason: 'record a stopped arm' });
      await admin.post(`/v1/releases/${id}/promote-arm`, { arm: 'b', reason: 'record a promoted arm' });
      await handle(id).result();
      await save('experiment-first-run', id, firstRun);
      await save('experiment-last-run', id);
    },
  };
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !(name in scenarios));
  if (unknown.length > 0) throw new Error(`no history ${unknown.join(', ')}; one of ${Object.keys(scenarios).join(', ')}`);

  try {
    await mkdir(OUT, { recursive: true });
    for (const [name, record] of Object.entries(scenarios)) if (wanted.length === 0 || wanted.includes(name)) await record();
  } finally {
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
