import type { Registry } from 'prom-client';
import type { Stores, Transactor } from '../db/create-stores';
import type { NewOutboxDelivery } from '../db/stores/webhook-outbox-store';
import type { Webhook } from '../db/stores/webhook-store';
import type { AudienceDevice, ClaimedNotification, NewNotificationDelivery } from '../db/stores/segment-notification-store';
import { bucketOf, isUsableDeviceId } from '../domain/bucketing';
import { BUILTIN_VERSION, PLATFORMS, type Platform } from '../domain/bundle';
import { isCompatible } from '../domain/native-compat';
import type { ServingExperiment } from '../domain/experiment-serving';
import {
  isNewlyExposed,
  notificationDeliveryId,
  notifiedArms,
  notifiedTargetOf,
  NOTIFICATION_EVENT,
  NOTIFICATION_LIMITS,
  scheduleDeliveries,
  type AudienceMember,
  type NotificationPayload,
  type NotifiedTarget,
  type ScheduledGroup,
  type UntoldReason,
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
  stores: Pick<Stores, 'segmentNotifications' | 'segments' | 'webhooks' | 'experiments'>;
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

/**
 * What a stored device is told, when the notification's stage newly exposed it (its segment, its
 * bucket): its bundle (its arm's, in an experiment) if it can run it; why not, when its arm changes
 * nothing for it; null for any other device.
 */
function targetOf(job: ClaimedNotification, context: GrowthContext, device: AudienceDevice, now: number): NotifiedTarget | UntoldReason | null {
  if (!isUsableDeviceId(device.deviceId) || !isNewlyExposed(bucketOf(job.bucketSalt, device.deviceId), job.fromBps, job.toBps)) return null;
  const platform = isPlatform(device.platform) ? device.platform : null;
  const nativeVersion = device.nativeVersion ?? '';
  const segment = context.resolve({
    deviceId: device.deviceId,
    platform,
    nativeVersion,
    bundleVersion: device.bundleVersion ?? BUILTIN_VERSION,
    channel: job.channel,
    attributes: ruleAttributes(device.attributes),
    sessionsLast7d: device.sessionsLast7d,
    daysSinceFirstSeen: daysSince(device.firstSeen.getTime(), now),
  });
  if (segment !== job.segment) return null;
  const target = notifiedTargetOf(device.deviceId, job.bundle, context.experiment, job.baselineVersion);
  return typeof target === 'string' || (target !== null && isCompatible(target.bundle, platform, nativeVersion)) ? target : null;
}

/** Newly exposed devices to tell, by what they are told (one group per arm in an experiment), and how many are not told and why. */
function audienceOf(job: ClaimedNotification, context: GrowthContext, devices: readonly AudienceDevice[], now: number) {
  const told = new Map<string | null, { target: NotifiedTarget; members: AudienceMember[] }>();
  const untold = new Map<UntoldReason, number>();
  for (const device of devices) {
    const target = targetOf(job, context, device, now);
    if (target === null) continue;
    if (typeof target === 'string') {
      untold.set(target, (untold.get(target) ?? 0) + 1);
      continue;
    }
    const group = told.get(target.arm) ?? { target, members: [] };
    group.members.push({ deviceId: device.deviceId, timeZone: device.timeZone });
    told.set(target.arm, group);
  }
  return { told: [...told.values()], untold };
}

/** What every page of a growth is judged with, read once per claim. */
interface GrowthContext {
  resolve: ReturnType<typeof compileSegments>;
  /** The arms that decide what each device gets (as published when the claim began); null outside experiments. */
  experiment: ServingExperiment | null;
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
 * the channel's devices in device id order, finds those each growth newly exposed (in an experiment,
 * those whose arm brings them a bundle), splits them by arm and by the moment quiet hours and the
 * segment's window let them be told, and writes one delivery per arm, moment and page with its outbox
 * rows to every push relay (a webhook subscribed to `segment_notification`), one transaction per page. The outbox drainer sends them, signed and retried like every webhook.
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
  const devicesUntold = createCounter(
    deps.registry,
    'rampart_segment_notification_devices_untold_total',
    'Newly exposed devices of an experiment not notified, by why (baseline_arm: their arm keeps the baseline; stopped_arm: their arm was stopped, they are sent back)',
    ['reason'],
  );
  createCollectedGauge(deps.registry, 'rampart_segment_notifications_unprepared', 'Segment notifications whose devices are not computed yet', [], async () => [
    { labels: {}, value: await stores.segmentNotifications.countUnprepared() },
  ]);

  const deliveryOf = (job: ClaimedNotification, target: NotifiedTarget, group: ScheduledGroup, page: number): Built => {
    const id = notificationDeliveryId(job, group.at, page, target.arm);
    const inline = group.deviceIds.length <= NOTIFICATION_LIMITS.inlineDevices;
    const token = inline ? null : newSecret('snt_');
    const expiresAt = group.at + NOTIFICATION_LIMITS.tokenTtlMs;
    const payload: NotificationPayload = {
      id,
      event: NOTIFICATION_EVENT,
      occurredAt: new Date(group.at).toISOString(),
      release: { id: job.releaseId, appId: job.appId, channel: job.channel, version: job.version },
      segment: job.segment,
      bundleVersion: target.bundle.version,
      ...(target.arm === null ? {} : { arm: target.arm }),
      stageIndex: job.stageIndex,
      exposureBps: job.toBps,
      message: job.message,
      devices:
        token === null
          ? { count: group.deviceIds.length, ids: group.deviceIds }
          : { count: group.deviceIds.length, token, url: `/v1/notifications/${token}/devices`, expiresAt: new Date(expiresAt).toISOString() },
    };
    return {
      delivery: {
        id,
        scheduledFor: group.at,
        bundleVersion: target.bundle.version,
        arm: target.arm,
        deviceIds: group.deviceIds,
        tokenHash: token === null ? null : tokenHash(token),
        tokenExpiresAt: token === null ? null : expiresAt,
      },
      payload,
    };
  };

  const contextOf = async (job: ClaimedNotification): Promise<GrowthContext> => {
    const [segments, hooks, experiments] = await Promise.all([
      stores.segments.list(job.appId),
      stores.webhooks.listForApp(job.appId),
      stores.experiments.serving([job.releaseId]),
    ]);
    return {
      resolve: compileSegments(segments),
      experiment: notifiedArms(experiments.get(job.releaseId), job.status),
      windows: segments.find((s) => s.key === job.segment)?.maintenanceWindows ?? [],
      relays: hooks.filter((h) => h.events.includes(NOTIFICATION_EVENT)),
      since: new Date(job.createdAt - NOTIFICATION_LIMITS.audienceLookbackMs),
    };
  };

  /** Reads page `index` of the audience (devices after `after`) and records its deliveries; null when another worker recorded it first. */
  const preparePage = async (job: ClaimedNotification, context: GrowthContext, index: number, after: string | null) => {
    const now = Date.now();
    const devices = await stores.segmentNotifications.audience(job.appId, job.channel, context.since, new Date(now), after, settings.pageSize);
    const { told, untold } = audienceOf(job, context, devices, now);
    const built = told.flatMap(({ target, members }) =>
      scheduleDeliveries(members, now, job.quietHours, job.defaultTimeZone, context.windows).map((group) => deliveryOf(job, target, group, index)),
    );
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
    for (const [reason, count] of untold) devicesUntold.inc({ reason }, count);
    const devicesTold = built.reduce((n, b) => n + b.delivery.deviceIds.length, 0);
    return { last: page.last, after: page.lastDeviceId ?? after, devices: devicesTold, deliveries: built.length };
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
