import type { Registry } from 'prom-client';
import type { Stores, Transactor } from '../db/create-stores';
import type { AudienceDevice, ClaimedNotification, NewNotificationDelivery } from '../db/stores/segment-notification-store';
import { bucketOf, isUsableDeviceId } from '../domain/bucketing';
import { BUILTIN_VERSION, PLATFORMS, type Platform } from '../domain/bundle';
import { isCompatible } from '../domain/native-compat';
import {
  isNewlyExposed,
  NOTIFICATION_EVENT,
  NOTIFICATION_LIMITS,
  scheduleDeliveries,
  type NotificationPayload,
  type ScheduledGroup,
} from '../domain/segment-notification';
import { compileSegments, ruleAttributes } from '../domain/segment-rules';
import { daysSince } from '../domain/time';
import { WEBHOOK_RETRY, webhookRetryDelayMs } from '../domain/webhook-retry';
import { newSecret, tokenHash } from '../platform/ids';
import { createBackgroundLoop, type BackgroundLoop } from '../platform/background-loop';
import type { Logger } from '../platform/logger';
import { createCollectedGauge, createCounter } from '../platform/metrics';

export interface NotificationDispatcherSettings {
  /** How often to look for notifications to prepare when there is nothing to do. */
  pollMs: number;
}

export interface NotificationDispatcherDeps {
  stores: Pick<Stores, 'segmentNotifications' | 'segments' | 'webhooks'>;
  transact: Transactor;
  logger: Logger;
  registry: Registry;
  settings: NotificationDispatcherSettings;
}

export type NotificationDispatcher = BackgroundLoop;

// Preparing reads the channel's devices; a claimed row becomes due again after this should the process die.
const LEASE_MS = 5 * 60_000;
const CLAIM_BATCH = 4;

const isPlatform = (value: string | null): value is Platform => (PLATFORMS as readonly (string | null)[]).includes(value);

/** Whether a stored device is one the notification's stage newly exposed: its segment, its bucket, a bundle it can run. */
function newlyExposed(job: ClaimedNotification, resolve: ReturnType<typeof compileSegments>, device: AudienceDevice, now: number): boolean {
  if (!isUsableDeviceId(device.deviceId) || !isNewlyExposed(bucketOf(job.bucketSalt, device.deviceId), job.fromBps, job.toBps)) return false;
  const platform = isPlatform(device.platform) ? device.platform : null;
  const nativeVersion = device.nativeVersion ?? '';
  if (!isCompatible(job.bundle, platform, nativeVersion)) return false;
  const segment = resolve({
    deviceId: device.deviceId,
    platform,
    nativeVersion,
    bundleVersion: device.bundleVersion ?? BUILTIN_VERSION,
    channel: job.channel,
    attributes: ruleAttributes(device.attributes),
    sessionsLast7d: device.sessionsLast7d,
    daysSinceFirstSeen: daysSince(device.firstSeen.getTime(), now),
  });
  return segment === job.segment;
}

/**
 * Prepares the notifications that published exposures left (migration 0020's trigger): finds the
 * devices each growth newly exposed, splits them by the moment quiet hours and the segment's window
 * let them be told, and writes one delivery per moment with its outbox rows to every push relay (a
 * webhook subscribed to `segment_notification`), in one transaction. The outbox drainer sends them,
 * signed and retried like every webhook. Every worker runs one; rows are claimed with SKIP LOCKED.
 */
export function createSegmentNotificationDispatcher(deps: NotificationDispatcherDeps): NotificationDispatcher {
  const { stores, logger, settings } = deps;
  const prepared = createCounter(deps.registry, 'rampart_segment_notifications_prepared_total', 'Segment notifications prepared, by outcome (scheduled, empty, failed)', [
    'outcome',
  ]);
  const devicesScheduled = createCounter(deps.registry, 'rampart_segment_notification_devices_total', 'Devices addressed by segment notification deliveries, by how they travel', [
    'by',
  ]);
  createCollectedGauge(deps.registry, 'rampart_segment_notifications_unprepared', 'Segment notifications whose devices are not computed yet', [], async () => [
    { labels: {}, value: await stores.segmentNotifications.countUnprepared() },
  ]);

  const deliveryOf = (job: ClaimedNotification, group: ScheduledGroup): { delivery: NewNotificationDelivery; payload: NotificationPayload } => {
    const id = `notification:${job.releaseId}:${job.segment}:${job.toBps}:${group.at}`;
    const inline = group.deviceIds.length <= NOTIFICATION_LIMITS.inlineDevices;
    const token = inline ? null : newSecret('snt_');
    const expiresAt = group.at + NOTIFICATION_LIMITS.tokenTtlMs;
    const payload: NotificationPayload = {
      id,
      event: NOTIFICATION_EVENT,
      occurredAt: new Date(group.at).toISOString(),
      release: { id: job.releaseId, appId: job.appId, channel: job.channel, version: job.version },
      segment: job.segment,
      bundleVersion: job.bundle.version,
      stageIndex: job.stageIndex,
      exposureBps: job.toBps,
      message: job.message,
      devices:
        token === null
          ? { count: group.deviceIds.length, ids: group.deviceIds }
          : { count: group.deviceIds.length, token, url: `/v1/notifications/${token}/devices`, expiresAt: new Date(expiresAt).toISOString() },
    };
    return {
      delivery: { id, scheduledFor: group.at, deviceIds: group.deviceIds, tokenHash: token === null ? null : tokenHash(token), tokenExpiresAt: token === null ? null : expiresAt },
      payload,
    };
  };

  const prepare = async (job: ClaimedNotification) => {
    const now = Date.now();
    const [segments, devices, hooks] = await Promise.all([
      stores.segments.list(job.appId),
      stores.segmentNotifications.audience(job.appId, job.channel, new Date(now - NOTIFICATION_LIMITS.audienceLookbackMs), new Date(now), NOTIFICATION_LIMITS.maxDevices),
      stores.webhooks.listForApp(job.appId),
    ]);
    const resolve = compileSegments(segments);
    const members = devices.filter((d) => newlyExposed(job, resolve, d, now));
    const windows = segments.find((s) => s.key === job.segment)?.maintenanceWindows ?? [];
    const built = scheduleDeliveries(members, now, job.quietHours, job.defaultTimeZone, windows).map((group) => deliveryOf(job, group));
    // Only receivers that ask for notifications by name: a webhook for every rollout event is no push relay.
    const relays = hooks.filter((h) => h.events.includes(NOTIFICATION_EVENT));
    await deps.transact(async (tx) => {
      await tx.segmentNotifications.prepared(
        job.id,
        job.releaseId,
        built.map((b) => b.delivery),
      );
      await tx.webhookOutbox.enqueue(
        built.flatMap(({ delivery, payload }) =>
          relays.map((relay) => ({
            idempotencyKey: delivery.id,
            webhookId: relay.id,
            appId: job.appId,
            event: NOTIFICATION_EVENT,
            payload,
            giveUpAt: delivery.scheduledFor + WEBHOOK_RETRY.giveUpAfterMs,
            notBefore: delivery.scheduledFor,
          })),
        ),
      );
    });
    prepared.inc({ outcome: built.length > 0 ? 'scheduled' : 'empty' });
    for (const { delivery } of built) devicesScheduled.inc({ by: delivery.tokenHash === null ? 'payload' : 'token' }, delivery.deviceIds.length);
    if (relays.length === 0 && built.length > 0) {
      logger.warn({ releaseId: job.releaseId, segment: job.segment, appId: job.appId }, 'segment notification has no push relay to go to (add a webhook with the segment_notification event)');
    }
    logger.info(
      { releaseId: job.releaseId, segment: job.segment, stageIndex: job.stageIndex, devices: members.length, deliveries: built.map((b) => ({ at: new Date(b.delivery.scheduledFor).toISOString(), devices: b.delivery.deviceIds.length })) },
      `segment notification for ${job.segment} scheduled`,
    );
  };

  const runOnce = async (): Promise<number> => {
    const jobs = await stores.segmentNotifications.claim(CLAIM_BATCH, LEASE_MS);
    for (const job of jobs) {
      try {
        await prepare(job);
      } catch (err) {
        prepared.inc({ outcome: 'failed' });
        logger.error({ err, notification: job.id, releaseId: job.releaseId, segment: job.segment, attempts: job.attempts }, 'preparing a segment notification failed; retrying');
        await stores.segmentNotifications.retryLater(job.id, webhookRetryDelayMs(job.attempts), err instanceof Error ? err.message : String(err));
      }
    }
    return jobs.length;
  };

  return createBackgroundLoop({
    name: 'segment_notifications',
    intervalMs: settings.pollMs,
    logger,
    registry: deps.registry,
    iterate: async () => ((await runOnce()) < CLAIM_BATCH ? settings.pollMs : 0),
  });
}
