import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';

export interface ReceivedDelivery {
  idempotencyKey: string;
  event: string;
  releaseId: string;
  seq: number;
}

/**
 * A real HTTP webhook receiver on a fixed loopback port that a test takes down and brings back: every
 * accepted delivery (answered 204) is kept, in order, so the test can prove none came twice.
 */
export interface WebhookReceiver {
  url: string;
  accepted: ReceivedDelivery[];
  /** Attempts that reached the receiver, accepted or not. */
  attempts: number;
  /** Idempotency keys accepted more than once. */
  duplicates(): string[];
  /** Closes the port and every open connection: deliveries meanwhile fail to connect. */
  down(): Promise<void>;
  up(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const accepted: ReceivedDelivery[] = [];
  const sockets = new Set<Socket>();
  let attempts = 0;
  let server: Server | null = null;
  let port = 0;
  const http = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      attempts++;
      const payload = JSON.parse(body) as { event: string; release: { id: string } };
      // The key is `<release>:<transition seq>` (activities/deliver-webhook.ts).
      const idempotencyKey = String(req.headers['idempotency-key']);
      accepted.push({ idempotencyKey, event: payload.event, releaseId: payload.release.id, seq: Number(idempotencyKey.split(':').pop()) });
      res.writeHead(204).end();
    });
  });
  const up = () =>
    new Promise<void>((resolve, reject) => {
      // A plain listener handing connections to the HTTP server: closing it drops them all at once.
      const s = createServer((socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        http.emit('connection', socket);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        const address = s.address();
        if (typeof address === 'object' && address) port = address.port;
        resolve();
      });
    });
  await up();
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    accepted,
    get attempts() {
      return attempts;
    },
    duplicates() {
      const seen = new Set<string>();
      return accepted.map((d) => d.idempotencyKey).filter((key) => (seen.has(key) ? true : (seen.add(key), false)));
    },
    async down() {
      const s = server;
      server = null;
      for (const socket of sockets) socket.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async up() {
      if (server) throw new Error('the receiver is up already');
      await up();
    },
  };
}
