import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Webhook } from '../db/stores/webhook-store';
import type { NotificationPayload } from '../domain/segment-notification';
import type { WebhookPayload } from '../domain/webhook-payload';
import { guardedLookup, receiverUrlProblem, redactUrl } from '../platform/public-address';

export type DeliveryOutcome =
  | { kind: 'delivered'; status: number }
  /** The receiver answered with a client error other than 408/429: retrying cannot help. */
  | { kind: 'rejected'; status: number }
  /** `detail` never holds the URL: it ends up in activity failures and logs. */
  | { kind: 'failed'; detail: string };

/** Receivers answer with a status; a body beyond this is not worth reading, and the connection is closed. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface DeliveryOptions {
  timeoutMs: number;
  /** Development and tests: http and loopback or private receivers. */
  allowPrivate: boolean;
  /** Name resolution; tests map names to addresses with it. */
  lookup?: LookupFunction;
}

/**
 * `X-Rampart-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` — the receiver
 * recomputes it with the webhook's secret and rejects old timestamps to stop replays.
 */
export function signature(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

function outcomeOf(status: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'rejected', status };
  return { kind: 'failed', detail: `HTTP ${status}` };
}

/** Reads at most MAX_RESPONSE_BYTES, then drops the connection rather than drain a hostile stream. */
function drain(res: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let bytes = 0;
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_RESPONSE_BYTES) {
        res.destroy();
        resolve();
      }
    });
    res.on('end', resolve);
    res.on('error', () => resolve());
    res.on('close', resolve);
  });
}

function post(url: URL, headers: Record<string, string>, body: string, options: DeliveryOptions): Promise<number> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      // Redirects are not followed (a 3xx is a failed delivery): they could point anywhere.
      lookup: guardedLookup(options.allowPrivate, options.lookup),
      signal: AbortSignal.timeout(options.timeoutMs),
      agent: false,
    });
    req.on('response', (res) => {
      void drain(res).then(() => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Node's messages name the address dialed, never the URL; codes are enough to tell failures apart.
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return 'delivery failed';
  const code = (err as { code?: unknown }).code;
  if (code === 'EFORBIDDENADDRESS' || code === 'ABORT_ERR' || err.name === 'TimeoutError') return err.message;
  return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
}

export async function deliverWebhook(hook: Webhook, payload: WebhookPayload | NotificationPayload, idempotencyKey: string, options: DeliveryOptions): Promise<DeliveryOutcome> {
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(Date.now() / 1000);
  const redacted = redactUrl(hook.url);
  try {
    const url = new URL(hook.url);
    // Checked again at delivery: the setting may have changed since the webhook was created, and
    // literal addresses never go through the lookup below.
    const problem = receiverUrlProblem(hook.url, options.allowPrivate);
    if (problem) return { kind: 'failed', detail: `refused ${redacted}: ${problem}` };
    const status = await post(
      url,
      {
        'content-type': 'application/json',
        'user-agent': 'rampart-webhooks/1',
        'idempotency-key': idempotencyKey,
        'x-rampart-event': payload.event,
        'x-rampart-signature': signature(hook.secret, body, timestamp),
      },
      body,
      options,
    );
    return outcomeOf(status);
  } catch (err) {
    return { kind: 'failed', detail: `${redacted}: ${describeError(err).split(hook.url).join(redacted)}` };
  }
}
