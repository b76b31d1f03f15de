import { temporal } from '@temporalio/proto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/support/until';
import { deliveryProblems, ledgerProblems, pendingDeliveries, transitionsOf } from '../support/fault-ledger';
import { useProcessStack } from '../support/process-stack';
import { startRelease } from '../support/fixtures';
import { FAULT_SIZE, faultTimeout } from './fault-size';

const { PendingActivityState } = temporal.api.enums.v1;
const ROUNDS = FAULT_SIZE.workerKillRounds;
// A bake that outlasts noticing it and killing the worker; one gate tick per stage keeps the
// workflow idle (no activity in flight) for nearly all of it.
const SOAK_MS = 3000;
const STAGES = ROUNDS + 1;
const plan = {
  stages: Array.from({ length: STAGES }, (_, i) => ({
    exposureBps: Math.round((10_000 * (i + 1)) / STAGES),
    minSoakMs: SOAK_MS,
    checkIntervalMs: SOAK_MS,
    gates: [],
  })),
};

describe(`kill -9 the worker mid-bake and mid-publish (${ROUNDS} round(s))`, () => {
  const stackOf = useProcessStack();

  it(
    'restarts and the release goes on: every stage once and in order, every webhook once',
    async () => {
      const stack = stackOf();
      const appId = 'com.example.faults.worker';
      await stack.createApp(appId, ['1.0.0']);
      const admin = stack.apis[0]!.admin;
      const id = await startRelease(admin, appId, { version: '1.0.0', plan });
      const handle = stack.temporal.workflow.getHandle(`release-${id}`);
      const describe = async () => (await handle.describe()).raw;
      const ledger = () => transitionsOf(stack.db.pool, id);

      for (let round = 0; round < ROUNDS; round++) {
        // Mid-bake: stage `round` is published, its transition recorded and its webhook delivered
        // (and marked so: a kill between a receiver's 204 and that mark is delivered again, by design),
        // and the workflow waits on its bake timer with nothing in flight.
        await waitFor(
          `stage ${round} to bake with nothing in flight`,
          async () => ({ ledger: await ledger(), raw: await describe(), pending: await pendingDeliveries(stack.db.pool) }),
          (s) =>
            s.ledger.some((t) => t.event === 'stage_started' && t.stageIndex === round) &&
            s.pending === 0 &&
            (s.raw.pendingActivities ?? []).length === 0 &&
            !s.raw.pendingWorkflowTask,
          { timeoutMs: 90_000, everyMs: 50 },
        );
        await stack.worker.kill();

        // Mid-publish: the next stage's publish waits on a row lock the test holds; the worker dies
        // while its statement is in PostgreSQL and its activity is in Temporal's hands.
        const blocker = new pg.Client({ connectionString: stack.db.url });
        await blocker.connect();
        try {
          await blocker.query('BEGIN');
          await blocker.query('SELECT rs.revision FROM rollout_state rs WHERE rs.release_id = $1 FOR UPDATE', [id]);
          await stack.worker.start();
          await waitFor(
            `the publish of stage ${round + 1} to wait on the lock`,
            async () => {
              const { rows } = await stack.db.pool.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM pg_stat_activity a
                 WHERE a.datname = current_database() AND a.wait_event_type = 'Lock' AND a.query LIKE '%INSERT INTO rollout_state%'`,
              );
              const publishing = (await describe()).pendingActivities?.some(
                (a) => a.activityType?.name === 'publishRolloutState' && a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
              );
              return { waiting: rows[0]!.n, publishing };
            },
            (s) => s.waiting > 0 && s.publishing === true,
            { timeoutMs: 90_000, everyMs: 50 },
          );
          await stack.worker.kill();
        } finally {
          await blocker.query('COMMIT').catch(() => undefined);
          await blocker.end();
        }
        await stack.worker.start();
      }

      // Temporal retries the publish whose worker died (after its start-to-close timeout); the stage
      // the dead worker's statement may already have written is not entered twice.
      const done = await waitFor(
        'the release to complete',
        ledger,
        (l) => l.some((t) => t.event === 'completed'),
        { timeoutMs: 60_000 + ROUNDS * 45_000, everyMs: 250 },
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${stack.tail()}`);
      });
      expect(ledgerProblems(done, STAGES)).toEqual([]);
      await waitFor('every webhook delivered', () => pendingDeliveries(stack.db.pool), (n) => n === 0);
      expect(deliveryProblems(stack.receiver, id, done)).toEqual([]);

      // The API (never killed) serves the completed release.
      await waitFor(
        'the API to serve the completed release',
        () => stack.apis[0]!.device.post(`/v1/apps/${appId}/check`, { deviceId: 'device-after', platform: 'android', nativeVersion: '2.0.0', bundleVersion: 'builtin' }),
        (res) => res.body?.action === 'update' && res.body.releaseId === id,
      );
    },
    faultTimeout(ROUNDS * 45_000),
  );
});
