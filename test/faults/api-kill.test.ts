import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/support/until';
import { storedEventsPerDevice } from '../support/fault-ledger';
import { useProcessStack } from '../support/process-stack';
import { startRelease } from '../support/fixtures';
import type { ApiProcess } from '../support/service-processes';
import { FAULT_SIZE, faultTimeout } from './fault-size';
import { checkBody, type CheckAnswer } from './served-release';

const appId = 'com.example.faults.api';
// Held at half the fleet for the whole test: answers differ by device, so a wrong snapshot shows.
const plan = { stages: [{ exposureBps: 5000, minSoakMs: 600_000, checkIntervalMs: 5000, gates: [] }, { exposureBps: 10_000, minSoakMs: 1000, gates: [] }] };
const EVENTS_PER_POST = 2;
const PROBES = Array.from({ length: 20 }, (_, i) => `probe-${i}`);

interface Load {
  /** Device ids whose post was acknowledged (202), by instance. */
  acknowledged: Map<string, string[]>;
  /** Answers other than 202, by status and error code. */
  refused: Map<string, number>;
  failed: number;
  stop(): Promise<void>;
}

/** Devices posting events to every instance at once, each post from a device id of its own. */
function startLoad(apis: ApiProcess[], concurrency: number): Load {
  const acknowledged = new Map(apis.map((api) => [api.name, [] as string[]]));
  const load = { acknowledged, refused: new Map<string, number>(), failed: 0 };
  let running = true;
  let next = 0;
  const loop = async () => {
    while (running) {
      // Round robin, as a load balancer spreads devices.
      const api = apis[next % apis.length]!;
      const deviceId = `load-${next++}`;
      const at = new Date().toISOString();
      try {
        const res = await api.device.post(`/v1/apps/${appId}/events`, {
          deviceId,
          platform: 'android',
          nativeVersion: '2.0.0',
          events: [
            { type: 'session_start', at, bundleVersion: 'builtin' },
            { type: 'js_error', at, bundleVersion: 'builtin', message: deviceId },
          ],
        });
        if (res.status === 202) acknowledged.get(api.name)!.push(deviceId);
        else {
          const key = `${api.name} ${res.status} ${(res.body as { error?: { code?: string } } | undefined)?.error?.code ?? ''}`;
          load.refused.set(key, (load.refused.get(key) ?? 0) + 1);
        }
      } catch {
        // The instance died mid-request or is not listening yet: nothing was acknowledged. The lane's
        // next post goes round to the other instance, which answers.
        load.failed++;
      }
    }
  };
  const lanes = Array.from({ length: concurrency }, () => loop());
  return Object.assign(load, {
    async stop() {
      running = false;
      await Promise.all(lanes);
    },
  });
}

describe(`kill -9 an API instance while devices post events (${FAULT_SIZE.apiKills} kill(s), ${FAULT_SIZE.ingestConcurrency} devices at once)`, () => {
  // The periodic reload stays out of the way of the lock this test takes on the snapshot's table.
  const stackOf = useProcessStack({ apis: 2, apiEnv: { SNAPSHOT_RECONCILE_MS: '600000' } });

  it(
    'loses no acknowledged event, and the restarted instance answers nothing until its snapshot is loaded',
    async () => {
      const stack = stackOf();
      const [a, b] = stack.apis as [ApiProcess, ApiProcess];
      await stack.createApp(appId, ['1.0.0']);
      const id = await startRelease(a.admin, appId, { version: '1.0.0', plan });
      const answersOf = async (api: ApiProcess) => Promise.all(PROBES.map(async (d) => (await api.device.post<CheckAnswer>(`/v1/apps/${appId}/check`, checkBody(d))).body));
      const expected = await waitFor('both instances to serve the release', () => answersOf(b), (answers) => answers.some((x) => x.releaseId === id));
      expect(new Set(expected.map((x) => x.action))).toEqual(new Set(['update', 'none']));
      await waitFor('the other instance to agree', () => answersOf(a), (answers) => JSON.stringify(answers) === JSON.stringify(expected));

      const load = startLoad([a, b], FAULT_SIZE.ingestConcurrency);
      try {
        for (let kill = 0; kill < FAULT_SIZE.apiKills; kill++) {
          const before = load.acknowledged.get(a.name)!.length;
          await waitFor('the instance to acknowledge events under load', () => Promise.resolve(load.acknowledged.get(a.name)!.length), (n) => n >= before + 20);
          await a.kill();

          // The restart's snapshot load waits on a lock the test holds: meanwhile the instance must
          // answer nothing (no port, or 503), whatever devices and load balancers ask it.
          const locker = new pg.Client({ connectionString: stack.db.url });
          await locker.connect();
          const answeredWhileLoading: Array<{ path: string; status: number }> = [];
          try {
            await locker.query('BEGIN');
            await locker.query('LOCK TABLE rollout_state IN ACCESS EXCLUSIVE MODE');
            const restarted = a.spawn();
            await waitFor(
              'the restarted instance to wait for its snapshot',
              async () => {
                const { rows } = await stack.db.pool.query<{ n: number }>(
                  `SELECT count(*)::int AS n FROM pg_stat_activity s WHERE s.datname = current_database() AND s.wait_event_type = 'Lock' AND s.application_name = $1`,
                  [a.name],
                );
                return rows[0]!.n;
              },
              (n) => n > 0 && restarted.child.exitCode === null,
              { timeoutMs: 90_000 },
            );
            for (const path of ['/readyz', `/v1/apps/${appId}/check`]) {
              const res = await fetch(`${a.baseUrl}${path}`, path === '/readyz' ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(checkBody(PROBES[0]!)) }).catch(() => null);
              if (res && res.status !== 503) answeredWhileLoading.push({ path, status: res.status });
            }
          } finally {
            await locker.query('COMMIT').catch(() => undefined);
            await locker.end();
          }
          expect(answeredWhileLoading).toEqual([]);
          await waitFor('the restarted instance to be ready', () => a.device.get('/readyz').catch(() => null), (res) => res?.status === 200, { timeoutMs: 60_000 });
          // Its first answers are the loaded snapshot's: the same as the instance that never died.
          expect(await answersOf(a)).toEqual(expected);
        }
        const after = load.acknowledged.get(a.name)!.length;
        await waitFor(
          'the restarted instance to acknowledge events again',
          () => Promise.resolve({ acknowledged: load.acknowledged.get(a.name)!.length, others: load.acknowledged.get(b.name)!.length, refused: Object.fromEntries(load.refused), failed: load.failed }),
          (s) => s.acknowledged >= after + 20,
        ).catch((err: unknown) => {
          throw new Error(`${String(err)}\n${stack.tail()}`);
        });
      } finally {
        await load.stop();
      }

      const acknowledged = [...load.acknowledged.values()].flat();
      expect(acknowledged.length).toBeGreaterThan(0);
      const stored = await storedEventsPerDevice(stack.db.pool, appId, acknowledged);
      const lost = acknowledged.filter((d) => stored.get(d) !== EVENTS_PER_POST);
      expect(lost, `acknowledged posts whose events are not all stored exactly once (of ${acknowledged.length})`).toEqual([]);
    },
    faultTimeout(),
  );
});
