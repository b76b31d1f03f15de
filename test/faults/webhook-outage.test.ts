import { describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/support/until';
import { deliveryProblems, ledgerProblems, pendingDeliveries, transitionsOf } from '../support/fault-ledger';
import { useProcessStack } from '../support/process-stack';
import { startRelease } from '../support/fixtures';
import { FAULT_SIZE, faultTimeout } from './fault-size';

const MISSED = FAULT_SIZE.webhookMissedAttempts;
const appId = 'com.example.faults.webhooks';
// The release moves on while the receiver is down: deliveries pile up behind it, never the rollout.
const plan = {
  stages: [
    { exposureBps: 1000, minSoakMs: 500, checkIntervalMs: 250, gates: [] },
    { exposureBps: 5000, minSoakMs: 500, checkIntervalMs: 250, gates: [] },
    { exposureBps: 10_000, minSoakMs: 500, checkIntervalMs: 250, gates: [] },
  ],
};

describe(`a webhook receiver down for ${MISSED} delivery attempts`, () => {
  const stackOf = useProcessStack();

  it(
    'retries the deliveries it missed once it is back, and sends none twice',
    async () => {
      const stack = stackOf();
      const admin = stack.apis[0]!.admin;
      await stack.createApp(appId, ['1.0.0']);
      await stack.receiver.down();
      const id = await startRelease(admin, appId, { version: '1.0.0', plan });
      const attemptsOf = async () =>
        (await stack.db.pool.query<{ n: number }>('SELECT coalesce(max(o.attempts), 0)::int AS n FROM webhook_outbox o WHERE o.app_id = $1', [appId])).rows[0]!.n;

      // The rollout does not wait for its receiver: it ends while every delivery is still pending.
      const done = await waitFor('the release to complete', () => transitionsOf(stack.db.pool, id), (l) => l.some((t) => t.event === 'completed'), { timeoutMs: 60_000 });
      expect(ledgerProblems(done, plan.stages.length)).toEqual([]);
      // The outage lasts until the outbox has tried its rows that often (2 s, then doubling).
      await waitFor('deliveries to be retried', attemptsOf, (n) => n >= MISSED, { timeoutMs: 30_000 + 2000 * 2 ** MISSED });
      expect(await pendingDeliveries(stack.db.pool)).toBe(done.length);
      expect(stack.receiver.attempts).toBe(0);

      await stack.receiver.up();
      await waitFor('every delivery to be accepted', () => pendingDeliveries(stack.db.pool), (n) => n === 0, { timeoutMs: 30_000 + 2000 * 2 ** MISSED });
      expect(deliveryProblems(stack.receiver, id, done)).toEqual([]);
      expect(stack.receiver.attempts).toBe(done.length);
    },
    faultTimeout(4000 * 2 ** MISSED),
  );
});
