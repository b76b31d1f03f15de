import type { Exposure } from './release';
import type { RolloutEvent, Transition } from './rollout-view';
import { WEBHOOK_RETRY } from './webhook-retry';

export interface WebhookPayload {
  id: string;
  event: RolloutEvent;
  occurredAt: string;
  release: { id: string; appId: string; channel: string; version: string };
  transition: { from: string; to: string; stageIndex: number; exposure: Exposure; actor: string; reason: string };
}

/** The idempotency key of a transition's webhook deliveries: receivers dedupe on it. */
export function deliveryKeyOf(releaseId: string, seq: number): string {
  return `${releaseId}:${seq}`;
}

/**
 * The key of the one transition a workflow does not record (the release was withdrawn without it):
 * it has no sequence number, and happens at most once per release.
 */
export function withdrawalDeliveryKeyOf(releaseId: string): string {
  return `${releaseId}:withdrawn`;
}

export interface PayloadInput {
  /** The delivery key; receivers see it as the payload id. */
  id: string;
  releaseId: string;
  appId: string;
  channel: string;
  version: string;
  transition: Omit<Transition, 'seq'>;
}

/** What receivers get for one transition; the same for the workflow's notify and the outbox. */
export function webhookPayload(input: PayloadInput): WebhookPayload {
  const { transition } = input;
  return {
    id: input.id,
    event: transition.event,
    occurredAt: new Date(transition.at).toISOString(),
    release: { id: input.releaseId, appId: input.appId, channel: input.channel, version: input.version },
    transition: {
      from: transition.from,
      to: transition.to,
      stageIndex: transition.stageIndex,
      exposure: transition.exposure,
      actor: transition.actor,
      reason: transition.reason,
    },
  };
}

/** One outbox row per receiver that subscribes to the event (no events listed means all of them). */
export function outboxDeliveriesOf(hooks: ReadonlyArray<{ id: string; events: readonly string[] }>, payload: WebhookPayload) {
  return hooks
    .filter((w) => w.events.length === 0 || w.events.includes(payload.event))
    .map((w) => ({
      idempotencyKey: payload.id,
      webhookId: w.id,
      appId: payload.release.appId,
      event: payload.event,
      payload,
      giveUpAt: Date.parse(payload.occurredAt) + WEBHOOK_RETRY.giveUpAfterMs,
    }));
}
