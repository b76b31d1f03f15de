import type { Registry } from 'prom-client';
import { deliverWebhook, type DeliveryOptions } from '../activities/deliver-webhook';
import { NOTIFICATION_EVENT, type NotificationPayload } from '../domain/segment-notification';
import type { WebhookPayload } from '../domain/webhook-payload';
import type { OutboxDelivery, OutboxOutcome, WebhookOutboxStore } from '../db/stores/webhook-outbox-store';
import type { WebhookStore } from '../db/stores/webhook-store';
import { webhookRetryDelayMs } from '../domain/webhook-retry';
import type { Logger } from '../platform/logger';
import { createCollectedGauge, createCounter } from '../platform/metrics';
import { createBackgroundLoop } from '../platform/background-loop';

export interface OutboxDrainerSettings {
  /** Deliveries in flight at once, across all receivers. */
  concurrency: number;
  /** How often to look for due deliveries when there is nothing to do. */
  pollMs: number;
}

export interface OutboxDrainerDeps {
  outbox: WebhookOutboxStore;
  webhooks: Pick<WebhookStore, 'recordDelivery'>;
  delivery: DeliveryOptions;
  logger: Logger;
  registry: Registry;
  settings: OutboxDrainerSettings;
}

export interface OutboxDrainer {
  /** Resolves once the first claim has run. */
  start(): Promise<void>;
  /** Stops claiming and waits for the deliveries in flight. */
  stop(): Promise<void>;
}

// A claimed row becomes due again after this, should the process die mid-delivery.
const LEASE_MARGIN_MS = 30_000;

/**
 * Sends the webhook deliveries that transitions left in the outbox, outside any workflow: a receiver
 * that never answers costs one slot for its timeout, never a rollout's progress. Every worker runs
 * one; rows are claimed with SKIP LOCKED, so they share the work and never send a row twice at once.
 */
export function createWebhookOutboxDrainer(deps: OutboxDrainerDeps): OutboxDrainer {
  const { outbox, settings, logger } = deps;
  const attempts = createCounter(deps.registry, 'rampart_webhook_outbox_attempts_total', 'Webhook outbox delivery attempts by outcome', ['outcome']);
  const finished = createCounter(deps.registry, 'rampart_webhook_outbox_finished_total', 'Webhook outbox rows finished, by outcome', ['outcome']);
  const notifications = createCounter(
    deps.registry,
    'rampart_segment_notification_deliveries_total',
    'Segment notification delivery attempts to push relays, by outcome (delivered, rejected, failed, expired, dropped)',
    ['outcome'],
  );
  createCollectedGauge(deps.registry, 'rampart_webhook_outbox_pending', 'Webhook deliveries not finished yet (due or waiting for a retry)', [], async () => [
    { labels: {}, value: await outbox.countPending() },
  ]);
  const leaseMs = deps.delivery.timeoutMs + LEASE_MARGIN_MS;
  const inFlight = new Set<Promise<void>>();

  const send = async (d: OutboxDelivery): Promise<void> => {
    const outcome = await attempt(d);
    if (d.event === NOTIFICATION_EVENT) notifications.inc({ outcome });
  };

  /** One attempt of a delivery: what became of it. */
  const attempt = async (d: OutboxDelivery): Promise<OutboxOutcome | 'failed'> => {
    if (!d.webhook) {
      await outbox.finish(d.id, 'dropped', 'the webhook was deleted');
      finished.inc({ outcome: 'dropped' });
      return 'dropped';
    }
    const outcome = await deliverWebhook(d.webhook, d.payload as WebhookPayload | NotificationPayload, d.idempotencyKey, deps.delivery);
    attempts.inc({ outcome: outcome.kind });
    if (outcome.kind !== 'failed') {
      await deps.webhooks.recordDelivery(d.idempotencyKey, d.webhook.id, outcome.status);
      await outbox.finish(d.id, outcome.kind, null);
      finished.inc({ outcome: outcome.kind });
      if (outcome.kind === 'rejected') logger.warn({ webhook: d.webhook.id, status: outcome.status, key: d.idempotencyKey, event: d.event }, 'webhook rejected the delivery; not retrying');
      return outcome.kind;
    }
    const delayMs = webhookRetryDelayMs(d.attempts);
    if (Date.now() + delayMs > d.giveUpAt) {
      await outbox.finish(d.id, 'expired', outcome.detail);
      finished.inc({ outcome: 'expired' });
      logger.warn({ webhook: d.webhook.id, key: d.idempotencyKey, attempts: d.attempts, detail: outcome.detail, event: d.event }, 'webhook delivery gave up');
      return 'expired';
    }
    await outbox.retryLater(d.id, delayMs, outcome.detail);
    return 'failed';
  };

  const track = (d: OutboxDelivery) => {
    const task = send(d)
      .catch((err: unknown) => logger.error({ err, key: d.idempotencyKey }, 'webhook outbox delivery failed; the row is retried after its lease'))
      .finally(() => {
        inFlight.delete(task);
        loop.wake();
      });
    inFlight.add(task);
  };

  const loop = createBackgroundLoop({
    name: 'webhook outbox drainer',
    intervalMs: settings.pollMs,
    logger,
    registry: deps.registry,
    async iterate() {
      const free = settings.concurrency - inFlight.size;
      if (free <= 0) return settings.pollMs;
      const batch = await outbox.claim(free, leaseMs);
      for (const d of batch) track(d);
      // A full claim may leave more due rows: the next claim comes as soon as a slot frees up (it wakes the loop).
      return batch.length === free ? settings.pollMs * 10 : settings.pollMs;
    },
  });

  return {
    start: () => loop.start(),
    async stop() {
      await loop.stop();
      await Promise.allSettled([...inFlight]);
    },
  };
}
