import { createServer, type Server } from 'node:http';
import type { LookupFunction, AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deliverWebhook, MAX_RESPONSE_BYTES } from '../../../activities/deliver-webhook';
import type { WebhookPayload } from '../../../domain/webhook-payload';
import type { Webhook } from '../../../db/stores/webhook-store';

const payload: WebhookPayload = {
  id: 'r1:1',
  event: 'started',
  occurredAt: new Date(0).toISOString(),
  release: { id: 'r1', appId: 'com.example.app', channel: 'production', version: '1.0.0' },
  transition: { from: 'pending', to: 'running', stageIndex: 0, exposure: {}, actor: 'system', reason: 'test' },
};
const hook = (url: string): Webhook => ({ id: 'w1', appId: 'com.example.app', url, secret: 'whsec_x', events: [], createdAt: '' });

/** Resolves every name to loopback, as a hostile DNS answer would. */
const toLoopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all) return (callback as unknown as (e: null, a: unknown[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  callback(null, '127.0.0.1', 4);
};

let server: Server | null = null;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = null;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ port: number; hits: () => number }> {
  let hits = 0;
  server = createServer((req, res) => {
    hits++;
    handler!(req, res);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, hits: () => hits };
}

describe(deliverWebhook.name, () => {
  it('refuses a DNS name that resolves to loopback, checked on the address dialed, and never names the path', async () => {
    const { port, hits } = await listen((_req, res) => res.writeHead(204).end());
    const outcome = await deliverWebhook(hook(`http://internal.example.test:${port}/services/T0/token`), payload, 'k', {
      timeoutMs: 2000,
      allowPrivate: false,
      lookup: toLoopback,
    });
    expect(outcome.kind).toBe('failed');
    // http is refused first; with https the dial itself is refused.
    const dialed = await deliverWebhook(hook(`https://internal.example.test:${port}/services/T0/token`), payload, 'k', {
      timeoutMs: 2000,
      allowPrivate: false,
      lookup: toLoopback,
    });
    expect(dialed).toMatchObject({ kind: 'failed', detail: expect.stringMatching(/loopback or private/) });
    expect(JSON.stringify([outcome, dialed])).not.toContain('token');
    expect(hits()).toBe(0);
  });

  it('refuses literal loopback and metadata addresses', async () => {
    for (const url of ['https://127.0.0.1:5432/', 'https://169.254.169.254/latest/meta-data/']) {
      const outcome = await deliverWebhook(hook(url), payload, 'k', { timeoutMs: 2000, allowPrivate: false });
      expect(outcome).toMatchObject({ kind: 'failed', detail: expect.stringMatching(/address/) });
    }
  });

  it('stops reading a response beyond the cap and closes the connection', async () => {
    let hungUp!: () => void;
    const clientHungUp = new Promise<void>((resolve) => (hungUp = resolve));
    const { port } = await listen((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(16 * 1024, 1);
      // An endless body: only the client hanging up ends it.
      const pump = () => {
        while (res.write(chunk));
      };
      res.on('drain', pump);
      req.socket.on('close', hungUp);
      pump();
    });
    const outcome = await deliverWebhook(hook(`http://127.0.0.1:${port}/`), payload, 'k', { timeoutMs: 10_000, allowPrivate: true });
    // Delivered, not timed out: the client stopped after MAX_RESPONSE_BYTES and hung up.
    expect(outcome).toEqual({ kind: 'delivered', status: 200 });
    await clientHungUp;
    expect(MAX_RESPONSE_BYTES).toBe(64 * 1024);
  });

  it('does not follow redirects', async () => {
    const { port, hits } = await listen((_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end());
    const outcome = await deliverWebhook(hook(`http://127.0.0.1:${port}/`), payload, 'k', { timeoutMs: 2000, allowPrivate: true });
    expect(outcome).toEqual({ kind: 'failed', detail: 'HTTP 302' });
    expect(hits()).toBe(1);
  });
});
