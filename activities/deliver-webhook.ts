import { createHmac } from 'node:crypto';
import type { Webhook } from '../db/stores/webhook-store';
import type { Exposure } from '../domain/release';
import type { RolloutEvent } from '../domain/rollout-view';

export interface WebhookPayload {
  id: string;
  event: RolloutEvent;
  occurredAt: string;
  release: { id: string; appId: string; channel: string; version: string };
  transition: { from: string; to: string; stageIndex: number; exposure: Exposure; actor: string; reason: string };
}

export type DeliveryOutcome =
  | { kind: 'delivered'; status: number }
  /** The receiver answered with a client error other than 408/429: retrying cannot help. */
  | { kind: 'rejected'; status: number }
  | { kind: 'failed'; detail: string };

/**
 * `X-Rampart-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` — the receiver
 * recomputes it with the webhook's secret and rejects old timestamps to stop replays.
 */
export function signature(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

export async function deliverWebhook(hook: Webhook, payload: WebhookPayload, idempotencyKey: string, timeoutMs: number): Promise<DeliveryOutcome> {
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'rampart-webhooks/1',
        'idempotency-key': idempotencyKey,
        'x-rampart-event': payload.event,
        'x-rampart-signature': signature(hook.secret, body, timestamp),
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { kind: 'delivered', status: res.status };
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) return { kind: 'rejected', status: res.status };
    return { kind: 'failed', detail: `HTTP ${res.status}` };
  } catch (err) {
    return { kind: 'failed', detail: err instanceof Error ? err.message : String(err) };
  }
}
