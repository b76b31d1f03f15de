import { BPS_SCALE } from './bucketing';
import type { BundleRef } from './bundle';
import { armAmong, runningExperiment, type ServingExperiment } from './experiment-serving';
import { isWindowOpen, nextWindowOpening, type MaintenanceWindow } from './maintenance-window';
import { isWithdrawn, type ReleaseStatus } from './release';
import { DAY_MS } from './time';

/**
 * Segment notifications: a release may tell a segment's devices (through the team's push relay) that
 * a stage opened for them. Each growth of the segment's exposure notifies the devices it newly
 * reaches, at a moment that is outside the quiet hours of the device's time zone and inside the
 * segment's maintenance window.
 */

/** The webhook event a push relay subscribes to; never sent to webhooks that list no events. */
export const NOTIFICATION_EVENT = 'segment_notification';

export const NOTIFICATION_LIMITS = {
  maxPerRelease: 20,
  maxTitleLength: 200,
  maxBodyLength: 2000,
  maxDataKeys: 20,
  maxDataValueLength: 500,
  /** Up to this many device ids travel in the payload; more are paged through with a token. */
  inlineDevices: 500,
  /** Devices per page of `GET /v1/notifications/:token/devices`. */
  pageSize: 1000,
  /** How long a relay may page through a delivery's devices after it was scheduled. */
  tokenTtlMs: 7 * DAY_MS,
  /** Devices seen within this long before the growth are the audience a notification is computed from. */
  audienceLookbackMs: 30 * DAY_MS,
} as const;

export interface QuietHours {
  /** Local `HH:MM` at which quiet starts; later than `end` means it runs past midnight. */
  start: string;
  /** Local `HH:MM` at which devices may be told again. */
  end: string;
}

export interface NotificationMessage {
  title?: string;
  body?: string;
  /** Passed through to the relay as it is. */
  data?: Record<string, string | number | boolean>;
}

export interface SegmentNotificationSpec {
  segment: string;
  message: NotificationMessage;
  quietHours: QuietHours | null;
}

const EVERY_DAY = [0, 1, 2, 3, 4, 5, 6];

/** The hours outside quiet hours, as a daily window in the device's zone. */
function awakeWindow(quiet: QuietHours, timeZone: string): MaintenanceWindow[] {
  return [{ days: EVERY_DAY, start: quiet.end, end: quiet.start, timeZone }];
}

export function isQuietAt(quiet: QuietHours | null, timeZone: string, atMs: number): boolean {
  return quiet !== null && !isWindowOpen(awakeWindow(quiet, timeZone), atMs);
}

/** Quiet hours and a maintenance window can push each other along; a few rounds settle any real pair. */
const MAX_ROUNDS = 8;

/**
 * The first moment from `nowMs` on at which a device in `timeZone` may be told: outside the quiet
 * hours there and inside the segment's maintenance window (if it has one). When the two never meet
 * (a window that lies inside the zone's quiet hours), quiet hours win: the first moment after them.
 */
export function deliveryTimeFor(nowMs: number, quiet: QuietHours | null, timeZone: string, windows: readonly MaintenanceWindow[]): number {
  const awake = quiet === null ? [] : awakeWindow(quiet, timeZone);
  let at = nowMs;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const afterQuiet = nextWindowOpening(awake, at) ?? at;
    const inWindow = nextWindowOpening(windows, afterQuiet) ?? afterQuiet;
    if (inWindow === at) return at;
    at = inWindow;
  }
  return nextWindowOpening(awake, nowMs) ?? nowMs;
}

/**
 * Whether a device with this bucket is newly reached when the segment's exposure grows from `fromBps`
 * to `toBps`: each device is notified once, by the stage that first exposes it.
 */
export function isNewlyExposed(bucket: number, fromBps: number, toBps: number): boolean {
  return bucket >= Math.min(fromBps, BPS_SCALE) && bucket < Math.min(toBps, BPS_SCALE);
}

/** Devices of one delivery: inline when few, else behind a token the relay pages through. */
export type NotificationDevices =
  | { count: number; ids: string[] }
  | { count: number; token: string; url: string; expiresAt: string };

export interface NotificationPayload {
  id: string;
  event: typeof NOTIFICATION_EVENT;
  occurredAt: string;
  release: { id: string; appId: string; channel: string; version: string };
  segment: string;
  /** The bundle these devices get: the segment's (a personalized release's own for it), or in an experiment their arm's. */
  bundleVersion: string;
  /** In an experiment: the arm of every device of this delivery. Absent for other releases. */
  arm?: string;
  stageIndex: number;
  exposureBps: number;
  message: NotificationMessage;
  devices: NotificationDevices;
}

export interface SpecProblem {
  path: string;
  message: string;
}

/** Why a release's notifications cannot be started: each must name a segment the plan exposes, once. */
export function notificationProblems(specs: readonly SegmentNotificationSpec[], appSegments: readonly string[], planSegments: readonly string[]): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const seen = new Set<string>();
  specs.forEach((spec, i) => {
    const path = `notifications.${i}.segment`;
    if (seen.has(spec.segment)) problems.push({ path, message: `segment ${spec.segment} has a notification already; one per segment` });
    seen.add(spec.segment);
    if (!appSegments.includes(spec.segment)) problems.push({ path, message: `the app has no segment ${spec.segment}; its segments are ${appSegments.join(', ')}` });
    else if (!planSegments.includes(spec.segment)) {
      problems.push({ path, message: `the plan never exposes segment ${spec.segment}, so its notification would never be sent; add it to a stage` });
    }
  });
  return problems;
}

export interface AudienceMember {
  deviceId: string;
  /** Null: the device reported none; the app's default zone applies. */
  timeZone: string | null;
}

export interface ScheduledGroup {
  at: number;
  deviceIds: string[];
}

/**
 * Splits a notification's devices by the moment each may be told (see `deliveryTimeFor`), earliest
 * first; the moment is computed once per time zone, of which a fleet has few.
 */
export function scheduleDeliveries(
  members: readonly AudienceMember[],
  nowMs: number,
  quiet: QuietHours | null,
  defaultTimeZone: string,
  windows: readonly MaintenanceWindow[],
): ScheduledGroup[] {
  const atByZone = new Map<string, number>();
  const groups = new Map<number, string[]>();
  for (const member of members) {
    const zone = member.timeZone ?? defaultTimeZone;
    let at = atByZone.get(zone);
    if (at === undefined) atByZone.set(zone, (at = deliveryTimeFor(nowMs, quiet, zone, windows)));
    const ids = groups.get(at) ?? [];
    ids.push(member.deviceId);
    groups.set(at, ids);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([at, deviceIds]) => ({ at, deviceIds }));
}

/** What of a bundle decides which devices can run it. */
export type AnnouncedBundle = Pick<BundleRef, 'version' | 'platforms' | 'nativeRange'>;

/** What a newly exposed device is told it gets: a bundle, and its experiment arm (null outside experiments). */
export interface NotifiedTarget {
  arm: string | null;
  bundle: AnnouncedBundle;
}

/** Why a newly exposed device of an experiment is not told: its arm keeps the baseline, or was stopped (its devices are sent back). */
export type UntoldReason = 'baseline_arm' | 'stopped_arm';

/**
 * The arms that decide what an experiment's newly exposed devices are served when its notification is
 * prepared: a running (or paused) experiment's as published; a withdrawn one's all stopped, its devices
 * being back on the baseline; null for a plain release and for a completed experiment, which serves
 * its promoted arm's bundle (by then the release's) to every device.
 */
export function notifiedArms(experiment: ServingExperiment | undefined, status: ReleaseStatus): ServingExperiment | null {
  const running = runningExperiment({ experiment, status });
  if (running !== null || experiment === undefined || !isWithdrawn(status)) return running;
  return { ...experiment, arms: experiment.arms.map((a) => ({ ...a, stopped: true })) };
}

/**
 * What a newly exposed device is told, by the assignment serving makes: outside an experiment the
 * segment's bundle; inside one its arm's (the arm hash of `armAmong`), unless the arm keeps the baseline
 * (no bundle of its own, or the baseline's) or was stopped: nothing changes for those devices. Null
 * for an id that cannot identify a device.
 */
export function notifiedTargetOf(
  deviceId: string,
  bundle: AnnouncedBundle,
  experiment: ServingExperiment | null,
  baselineVersion: string | null,
): NotifiedTarget | UntoldReason | null {
  if (experiment === null) return { arm: null, bundle };
  const arm = armAmong(experiment, deviceId);
  if (arm === null) return null;
  if (arm.stopped) return 'stopped_arm';
  if (arm.bundle === null || arm.bundle.version === baselineVersion) return 'baseline_arm';
  return { arm: arm.key, bundle: arm.bundle };
}

/**
 * A delivery's id, which is also its outbox rows' idempotency key and the relay's: one per growth,
 * moment, page of the audience and, in an experiment, arm; deterministic, so a page prepared again
 * names the same deliveries.
 */
export function notificationDeliveryId(growth: { releaseId: string; segment: string; toBps: number }, at: number, page: number, arm: string | null): string {
  const id = `notification:${growth.releaseId}:${growth.segment}:${growth.toBps}:${at}:${page}`;
  return arm === null ? id : `${id}:${arm}`;
}
