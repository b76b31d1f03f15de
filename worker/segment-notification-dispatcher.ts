import type { Registry } from 'prom-client';
import type { Stores, Transactor } from '../db/create-stores';
import type { NewOutboxDelivery } from '../db/stores/webhook-outbox-store';
import type { Webhook } from '../db/stores/webhook-store';
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
import type { MaintenanceWindow } from '../domain/maintenance-window';
import { compileSegments, ruleAttributes } from '../domain/segment-rules';
import { daysSince } from '../domain/time';
import { WEBHOOK_RETRY, webhookRetryDelayMs } from '../domain/webhook-retry';
import { newSecret, tokenHash } from '../platform/ids';
import { createBackgroundLoop, type BackgroundLoop } from '../platform/background-loop';
import type { SegmentNotificationsConfig } from '../platform/config';
import type { Logger } from '../platform/logger';
import { createCollectedGauge, createCounter } from '../platform/metrics';

export type NotificationDispatcherSettings = SegmentNotificationsConfig;

export interface NotificationDispatcherDeps {
  stores: Pick<Stores, 'segmentNotifications' | 'segments' | 'webhooks'>;
  transact: Transactor;
  logger: Logger;
  registry: Registry;
  settings: NotificationDispatcherSettings;
}

export interface NotificationDispatcher extends BackgroundLoop {
  /** Claims the growths that are due and prepares them; how many it claimed. */
  runOnce(): Promise<number>;
}

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

/** What every page of a growth is judged with, read once per claim. */
interface GrowthContext {
  resolve: ReturnType<typeof compileSegments>;
  windows: readonly MaintenanceWindow[];
  /** Receivers that ask for notifications by name: a webhook for every rollout event is no push relay. */
  relays: Webhook[];
  /** The audience: devices seen this long before the growth. */
  since: Date;
}

interface Built {
  delivery: NewNotificationDelivery;
  payload: NotificationPayload;
}

function outboxRowsOf(job: ClaimedNotification, built: readonly Built[], relays: readonly Webhook[]): NewOutboxDelivery[] {
  return built.flatMap(({ delivery, payload }) =>
    relays.map((relay) => ({
      idempotencyKey: delivery.id,
      webhookId: relay.id,
      appId: job.appId,
      event: NOTIFICATION_EVENT,
      payload,
      giveUpAt: delivery.scheduledFor + WEBHOOK_RETRY.giveUpAfterMs,
      notBefore: delivery.scheduledFor,
    })),
  );
}

/**
 * Prepares the notifications that published exposures left (migration 0020's trigger): pages through
 * the channel's devices in device id order, finds those each growth newly exposed, splits them by the
 * moment quiet hours and the segment's window let them be told, and writes one delivery per moment
 * and page with its outbox rows to every push relay (a webhook subscribed to `segment_notification`),
 * one transaction per page. The outbox drainer sends them, signed and retried like every webhook.
 * Every worker runs one; rows are claimed with SKIP LOCKED, and a page commits only if no other
 * worker recorded it (a claim whose lease ran out), so no device is told twice. A growth that keeps
 * failing is given up after `maxAttempts`.
 */
export function createSegmentNotificationDispatcher(deps: NotificationDispatcherDeps): NotificationDispatcher {
  const { stores, logger, settings } = deps;
  const prepared = createCounter(
    deps.registry,
    'rampart_segment_notifications_prepared_total',
    'Segment notification preparations, by outcome (scheduled, empty, failed: retried later, gave_up: failed for good, overtaken: another worker took over)',
    ['outcome'],
  );
  const devicesScheduled = createCounter(deps.registry, 'rampart_segment_notification_devices_total', 'Devices addressed by segment notification deliveries, by how they travel', [
    'by',
  ]);
  createCollectedGauge(deps.registry, 'rampart_segment_notifications_unprepared', 'Segment notifications whose devices are not computed yet', [], async () => [
    { labels: {}, value: await stores.segmentNotifications.countUnprepared() },
  ]);

  const deliveryOf = (job: ClaimedNotification, group: ScheduledGroup, page: number): Built => {
    // Deterministic per growth, moment and page: the outbox's idempotency key, and the relay's.
    const id = `notification:${job.releaseId}:${job.segment}:${job.toBps}:${group.at}:${page}`;
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

  const contextOf = async (job: ClaimedNotification): Promise<GrowthContext> => {
    const [segments, hooks] = await Promise.all([stores.segments.list(job.appId), stores.webhooks.listForApp(job.appId)]);
    return {
      resolve: compileSegments(segments),
      windows: segments.find((s) => s.key === job.segment)?.maintenanceWindows ?? [],
      relays: hooks.filter((h) => h.events.includes(NOTIFICATION_EVENT)),
      since: new Date(job.createdAt - NOTIFICATION_LIMITS.audienceLookbackMs),
    };
  };

  /** Reads page `index` of the audience (devices after `after`) and records its deliveries; null when another worker recorded it first. */
  const preparePage = async (job: ClaimedNotification, context: GrowthContext, index: number, after: string | null) => {
    const now = Date.now();
    const devices = await stores.segmentNotifications.audience(job.appId, job.channel, context.since, new Date(now), after, settings.pageSize);
    const members = devices.filter((d) => newlyExposed(job, context.resolve, d, now));
    const built = scheduleDeliveries(members, now, job.quietHours, job.defaultTimeZone, context.windows).map((group) => deliveryOf(job, group, index));
    const page = { index, lastDeviceId: devices.at(-1)?.deviceId ?? null, last: devices.length < settings.pageSize, leaseMs: settings.leaseMs };
    const recorded = await deps.transact(async (tx) => {
      const mine = await tx.segmentNotifications.recordPage(
        job.id,
        job.releaseId,
        page,
        built.map((b) => b.delivery),
      );
      if (mine) await tx.webhookOutbox.enqueue(outboxRowsOf(job, built, context.relays));
      return mine;
    });
    if (!recorded) return null;
    for (const { delivery } of built) devicesScheduled.inc({ by: delivery.tokenHash === null ? 'payload' : 'token' }, delivery.deviceIds.length);
    return { last: page.last, after: page.lastDeviceId ?? after, devices: members.length, deliveries: built.length };
  };

  const prepare = async (job: ClaimedNotification): Promise<'scheduled' | 'empty' | 'overtaken'> => {
    const context = await contextOf(job);
    const totals = { pages: 0, devices: 0, deliveries: 0 };
    let after = job.cursor;
    for (let index = job.pagesDone; ; index += 1) {
      const page = await preparePage(job, context, index, after);
      if (page === null) {
        logger.warn({ notification: job.id, releaseId: job.releaseId, segment: job.segment, page: index }, 'another worker took over this segment notification (its lease ran out); leaving it to that one');
        return 'overtaken';
      }
      totals.pages += 1;
      totals.devices += page.devices;
      totals.deliveries += page.deliveries;
      after = page.after;
      if (page.last) break;
    }
    if (context.relays.length === 0 && totals.deliveries > 0) {
      logger.warn({ releaseId: job.releaseId, segment: job.segment, appId: job.appId }, 'segment notification has no push relay to go to (add a webhook with the segment_notification event)');
    }
    logger.info({ releaseId: job.releaseId, segment: job.segment, stageIndex: job.stageIndex, ...totals }, `segment notification for ${job.segment} scheduled`);
    return totals.deliveries > 0 ? 'scheduled' : 'empty';
  };

  const giveUp = async (job: ClaimedNotification, error: string) => {
    if (!(await stores.segmentNotifications.giveUp(job.id, error))) return;
    prepared.inc({ outcome: 'gave_up' });
    logger.error({ notification: job.id, releaseId: job.releaseId, segment: job.segment, attempts: job.attempts, error }, `segment notification for ${job.segment} given up: ${error}`);
  };

  const failed = async (job: ClaimedNotification, err: unknown) => {
    const error = err instanceof Error ? err.message : String(err);
    if (job.attempts >= settings.maxAttempts) return giveUp(job, `preparing failed ${job.attempts} times; the last time: ${error}`);
    prepared.inc({ outcome: 'failed' });
    logger.error({ err, notification: job.id, releaseId: job.releaseId, segment: job.segment, attempts: job.attempts }, 'preparing a segment notification failed; retrying');
    await stores.segmentNotifications.retryLater(job.id, webhookRetryDelayMs(job.attempts), error);
  };

  const runOnce = async (): Promise<number> => {
    const jobs = await stores.segmentNotifications.claim(CLAIM_BATCH, settings.leaseMs);
    for (const job of jobs) {
      // Attempts that failed give up at the last one; more means attempts that never finished (the worker died, each time).
      if (job.attempts > settings.maxAttempts) {
        await giveUp(job, `${job.attempts - 1} attempts to prepare it never finished (the worker stopped or lost its lease each time)`);
        continue;
      }
      try {
        prepared.inc({ outcome: await prepare(job) });
      } catch (err) {
        await failed(job, err);
      }
    }
    return jobs.length;
  };

  const loop = createBackgroundLoop({
    name: 'segment_notifications',
    intervalMs: settings.pollMs,
    logger,
    registry: deps.registry,
    iterate: async () => ((await runOnce()) < CLAIM_BATCH ? settings.pollMs : 0),
  });
  return { runOnce, ...loop };
}
