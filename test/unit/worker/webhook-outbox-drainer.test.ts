import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewOutboxDelivery, OutboxDelivery, OutboxOutcome, WebhookOutboxStore } from '../../../db/stores/webhook-outbox-store';
import { createLogger } from '../../../platform/logger';
import { waitFor } from '../../../scripts/support/until';
import { createWebhookOutboxDrainer } from '../../../worker/webhook-outbox-drainer';

/** An in-memory outbox with the store's claim semantics: due, unfinished rows, leased on claim. */
function createFakeOutbox(rows: OutboxDelivery[]) {
  const due = new Map(rows.map((r) => [r.id, 0]));
  const finished = new Map<number, OutboxOutcome>();
  const retried: number[] = [];
  const store: WebhookOutboxStore = {
    enqueue: (_: NewOutboxDelivery[]) => Promise.resolve(0),
    claim(limit, leaseMs) {
      const now = Date.now();
      const claimed = rows.filter((r) => !finished.has(r.id) && (due.get(r.id) ?? 0) <= now).slice(0, limit);
      for (const r of claimed) {
        due.set(r.id, now + leaseMs);
        r.attempts++;
      }
      return Promise.resolve(claimed.map((r) => ({ ...r })));
    },
    finish(id, outcome) {
      finished.set(id, outcome);
      return Promise.resolve();
    },
    retryLater(id, delayMs) {
      retried.push(id);
      due.set(id, Date.now() + delayMs);
      return Promise.resolve();
    },
    countPending: () => Promise.resolve(rows.length - finished.size),
  };
  return { store, finished, retried };
}

const row = (id: number, url: string | null, giveUpAt = Date.now() + 3_600_000): OutboxDelivery => ({
  id,
  idempotencyKey: `r1:${id}`,
  appId: 'com.example.app',
  event: 'started',
  payload: { id: `r1:${id}`, event: 'started' },
  attempts: 0,
  giveUpAt,
  webhook: url === null ? null : { id: `w${id}`, appId: 'com.example.app', url, secret: 'whsec_x', events: [], createdAt: '' },
});

let servers: Server[] = [];
afterEach(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  servers = [];
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe(createWebhookOutboxDrainer.name, () => {
  it('delivers beside a receiver that never answers, keys each delivery, and settles every row', async () => {
    const keys: string[] = [];
    const ok = await listen((req, res) => {
      keys.push(String(req.headers['idempotency-key']));
      res.writeHead(204).end();
    });
    const silent = await listen(() => undefined);
    const gone = await listen((_req, res) => res.writeHead(410).end());
    const failing = await listen((_req, res) => res.writeHead(503).end());
    const outbox = createFakeOutbox([row(1, silent), row(2, ok), row(3, gone), row(4, null), row(5, failing, Date.now() + 1000), row(6, ok)]);
    const recorded: string[] = [];
    const drainer = createWebhookOutboxDrainer({
      outbox: outbox.store,
      webhooks: { recordDelivery: (key) => Promise.resolve(void recorded.push(key)) },
      delivery: { timeoutMs: 60_000, allowPrivate: true },
      logger: createLogger('test', 'silent'),
      registry: new Registry(),
      settings: { concurrency: 2, pollMs: 20 },
    });
    await drainer.start();
    try {
      // Two slots, one of them held by the silent receiver for its whole timeout: the rest still flows.
      await waitFor('every answering receiver to be settled', () => Promise.resolve(outbox.finished.size), (n) => n === 5);
    } finally {
      servers[1]!.closeAllConnections();
      await drainer.stop();
    }
    expect(Object.fromEntries(outbox.finished)).toMatchObject({ 2: 'delivered', 3: 'rejected', 4: 'dropped', 5: 'expired', 6: 'delivered' });
    expect(outbox.finished.has(1)).toBe(false);
    expect(keys.sort()).toEqual(['r1:2', 'r1:6']);
    expect(recorded.sort()).toEqual(['r1:2', 'r1:3', 'r1:6']);
  });
});
