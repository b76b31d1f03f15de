import type { Platform } from '../../domain/bundle';
import type { ReleaseStatus } from '../../domain/release';
import type { NotificationMessage, QuietHours, SegmentNotificationSpec } from '../../domain/segment-notification';
import type { Queryable } from '../create-pool';

/** A growth of a notified segment's exposure, claimed for preparation, with what preparing it needs. */
export interface ClaimedNotification {
  id: number;
  releaseId: string;
  appId: string;
  channel: string;
  /** The release's main version (payloads name the release by it). */
  version: string;
  /** The release's status now: whether an experiment's arms still decide what its devices get. */
  status: ReleaseStatus;
  /** What the channel's devices run outside the release; null: the bundle in their binary. */
  baselineVersion: string | null;
  bucketSalt: string;
  segment: string;
  stageIndex: number;
  fromBps: number;
  toBps: number;
  attempts: number;
  createdAt: number;
  /** Pages of the audience recorded so far, and the last device id they reached (resumed from, in device id order). */
  pagesDone: number;
  cursor: string | null;
  message: NotificationMessage;
  quietHours: QuietHours | null;
  defaultTimeZone: string;
  /**
   * The bundle the segment's devices get, with what decides which devices can run it; an experiment's
   * devices get their arm's instead (this is its first treatment arm's, or its promoted arm's).
   */
  bundle: { version: string; platforms: Platform[]; nativeRange: string };
}

/** A device of the channel, as a notification's audience is computed from it. */
export interface AudienceDevice {
  deviceId: string;
  platform: string | null;
  nativeVersion: string | null;
  bundleVersion: string | null;
  attributes: Record<string, unknown>;
  timeZone: string | null;
  firstSeen: Date;
  sessionsLast7d: number;
}

export interface NewNotificationDelivery {
  id: string;
  scheduledFor: number;
  /** The version its payload names, and in an experiment the arm of its devices. */
  bundleVersion: string;
  arm: string | null;
  deviceIds: string[];
  /** Set when the relay pages through the devices with a token. */
  tokenHash: string | null;
  tokenExpiresAt: number | null;
}

export interface DeliveryState {
  id: string;
  scheduledFor: string;
  /** The version its payload named; null for deliveries recorded before migration 0022 kept it. */
  bundleVersion: string | null;
  /** In an experiment: the arm of its devices; null for other releases. */
  arm: string | null;
  deviceCount: number;
  /** How the devices travel: in the payload, or behind a token. */
  devicesBy: 'payload' | 'token';
  /** One per push relay: its outbox row's progress. */
  relays: Array<{ webhookId: string; attempts: number; outcome: string | null; lastError: string | null; finishedAt: string | null }>;
}

export interface NotificationState {
  id: number;
  segment: string;
  stageIndex: number;
  fromBps: number;
  toBps: number;
  createdAt: string;
  /** Null until the worker found the devices and scheduled the deliveries. */
  preparedAt: string | null;
  /** Set when preparing kept failing and was given up (`lastError` says why); deliveries of pages recorded before stay. */
  failedAt: string | null;
  attempts: number;
  lastError: string | null;
  deliveries: DeliveryState[];
}

export interface TokenPage {
  releaseId: string;
  deliveryId: string;
  deviceCount: number;
  deviceIds: string[];
}

export interface SegmentNotificationStore {
  insertSpecs(releaseId: string, specs: readonly SegmentNotificationSpec[]): Promise<void>;
  specsOf(releaseId: string): Promise<SegmentNotificationSpec[]>;
  /** Claims due notifications not prepared (nor given up) yet for `leaseMs`; concurrent workers never claim the same row. */
  claim(limit: number, leaseMs: number): Promise<ClaimedNotification[]>;
  /** A page of the channel's devices seen since `since`, after device id `after` in device id order, with their engagement as of `now`. */
  audience(appId: string, channel: string, since: Date, now: Date, after: string | null, limit: number): Promise<AudienceDevice[]>;
  /**
   * Records page `page.index` of a claimed notification with its deliveries, renews the lease, and
   * marks the notification prepared when the page is the last. False, writing nothing, when that page
   * is recorded already (another worker took the notification over): run it in a transaction.
   */
  recordPage(notificationId: number, releaseId: string, page: RecordedPage, deliveries: readonly NewNotificationDelivery[]): Promise<boolean>;
  retryLater(notificationId: number, delayMs: number, error: string): Promise<void>;
  /** Gives a notification up for good; false when it was prepared or given up meanwhile. */
  giveUp(notificationId: number, error: string): Promise<boolean>;
  listForRelease(releaseId: string): Promise<NotificationState[]>;
  /** A page of a token's devices after `after` (device id order); null for an unknown or expired token. */
  devicesPage(tokenHash: string, after: string | null, limit: number): Promise<TokenPage | null>;
  /** Notifications not prepared yet, given up ones aside (metrics). */
  countUnprepared(): Promise<number>;
  /** Deletes up to `limit` device rows of deliveries whose token expired by `now` (retention); returns how many. */
  purgeExpiredDevices(now: Date, limit: number): Promise<number>;
  /** Forgets the tokens that expired by `now` and page through nothing any more (retention); returns how many. */
  forgetExpiredTokens(now: Date): Promise<number>;
}

export interface RecordedPage {
  /** Pages recorded before this one: it commits only while the row still says so. */
  index: number;
  /** The last device id the page read; the next page starts after it. Null: it read none. */
  lastDeviceId: string | null;
  last: boolean;
  /** The claim's lease, renewed from now. */
  leaseMs: number;
}

interface ClaimedRow {
  id: string;
  release_id: string;
  app_id: string;
  channel: string;
  version: string;
  status: ReleaseStatus;
  baseline_version: string | null;
  bucket_salt: string;
  segment_key: string;
  stage_index: number;
  from_bps: number;
  to_bps: number;
  attempts: number;
  created_at: Date;
  pages_done: number;
  cursor_device_id: string | null;
  message: NotificationMessage;
  quiet_start: string | null;
  quiet_end: string | null;
  default_time_zone: string;
  b_version: string;
  b_platforms: Platform[];
  b_native_range: string;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function createSegmentNotificationStore(db: Queryable): SegmentNotificationStore {
  return {
    async insertSpecs(releaseId, specs) {
      if (specs.length === 0) return;
      await db.query(
        `INSERT INTO release_notifications (release_id, segment_key, message, quiet_start, quiet_end)
         SELECT $1, n.segment_key, n.message, n.quiet_start, n.quiet_end
           FROM unnest($2::text[], $3::jsonb[], $4::text[], $5::text[]) AS n (segment_key, message, quiet_start, quiet_end)`,
        [
          releaseId,
          specs.map((s) => s.segment),
          specs.map((s) => JSON.stringify(s.message)),
          specs.map((s) => s.quietHours?.start ?? null),
          specs.map((s) => s.quietHours?.end ?? null),
        ],
      );
    },
    async specsOf(releaseId) {
      const { rows } = await db.query<{ segment_key: string; message: NotificationMessage; quiet_start: string | null; quiet_end: string | null }>(
        'SELECT n.segment_key, n.message, n.quiet_start, n.quiet_end FROM release_notifications n WHERE n.release_id = $1 ORDER BY n.segment_key',
        [releaseId],
      );
      return rows.map((r) => ({ segment: r.segment_key, message: r.message, quietHours: quietHoursOf(r.quiet_start, r.quiet_end) }));
    },
    async claim(limit, leaseMs) {
      const { rows } = await db.query<ClaimedRow>(
        `WITH due AS (
           SELECT sn.id FROM segment_notifications sn
            WHERE sn.prepared_at IS NULL AND sn.failed_at IS NULL AND sn.next_attempt_at <= now()
            ORDER BY sn.next_attempt_at, sn.id
            LIMIT $1 FOR UPDATE SKIP LOCKED
         ), claimed AS (
           UPDATE segment_notifications sn SET attempts = sn.attempts + 1, next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
             FROM due WHERE sn.id = due.id
           RETURNING sn.id, sn.release_id, sn.app_id, sn.segment_key, sn.stage_index, sn.from_bps, sn.to_bps, sn.attempts, sn.created_at,
                     sn.pages_done, sn.cursor_device_id
         )
         SELECT c.id, c.release_id, c.app_id, r.channel, r.version, r.status, r.baseline_version, r.bucket_salt, c.segment_key, c.stage_index, c.from_bps, c.to_bps,
                c.attempts, c.created_at, c.pages_done, c.cursor_device_id, n.message, n.quiet_start, n.quiet_end, a.default_time_zone,
                b.version AS b_version, b.platforms AS b_platforms, b.native_range AS b_native_range
           FROM claimed c
           JOIN releases r ON r.id = c.release_id
           JOIN apps a ON a.id = c.app_id
           JOIN release_notifications n ON n.release_id = c.release_id AND n.segment_key = c.segment_key
           LEFT JOIN release_segment_bundles sb ON sb.release_id = c.release_id AND sb.segment_key = c.segment_key
           JOIN bundles b ON b.app_id = r.app_id AND b.version = COALESCE(sb.version, r.version)
          ORDER BY c.id`,
        [limit, leaseMs],
      );
      return rows.map((r) => ({
        id: Number(r.id),
        releaseId: r.release_id,
        appId: r.app_id,
        channel: r.channel,
        version: r.version,
        status: r.status,
        baselineVersion: r.baseline_version,
        bucketSalt: r.bucket_salt,
        segment: r.segment_key,
        stageIndex: r.stage_index,
        fromBps: r.from_bps,
        toBps: r.to_bps,
        attempts: r.attempts,
        createdAt: r.created_at.getTime(),
        pagesDone: r.pages_done,
        cursor: r.cursor_device_id,
        message: r.message,
        quietHours: quietHoursOf(r.quiet_start, r.quiet_end),
        defaultTimeZone: r.default_time_zone,
        bundle: { version: r.b_version, platforms: r.b_platforms, nativeRange: r.b_native_range },
      }));
    },
    async audience(appId, channel, since, now, after, limit) {
      const { rows } = await db.query<{
        device_id: string;
        platform: string | null;
        native_version: string | null;
        bundle_version: string | null;
        attributes: Record<string, unknown>;
        time_zone: string | null;
        first_seen: Date;
        sessions: number;
      }>(
        `SELECT d.device_id, d.platform, d.native_version, d.bundle_version, d.attributes, d.time_zone, d.first_seen,
                COALESCE((SELECT sum(s.sessions) FROM device_sessions_daily s
                           WHERE s.app_id = d.app_id AND s.device_id = d.device_id AND s.day > ($4::timestamptz - interval '7 days')::date), 0)::int AS sessions
           FROM devices d
          WHERE d.app_id = $1 AND ($5::text IS NULL OR d.device_id > $5) AND d.channel = $2 AND d.last_seen >= $3
          ORDER BY d.device_id LIMIT $6`,
        [appId, channel, since, now, after, limit],
      );
      return rows.map((r) => ({
        deviceId: r.device_id,
        platform: r.platform,
        nativeVersion: r.native_version,
        bundleVersion: r.bundle_version,
        attributes: r.attributes,
        timeZone: r.time_zone,
        firstSeen: r.first_seen,
        sessionsLast7d: r.sessions,
      }));
    },
    async recordPage(notificationId, releaseId, page, deliveries) {
      const { rowCount } = await db.query(
        `UPDATE segment_notifications
            SET pages_done = pages_done + 1, cursor_device_id = COALESCE($3, cursor_device_id),
                prepared_at = CASE WHEN $4::boolean THEN now() END, last_error = CASE WHEN $4::boolean THEN NULL ELSE last_error END,
                next_attempt_at = now() + make_interval(secs => $5::double precision / 1000)
          WHERE id = $1 AND pages_done = $2 AND prepared_at IS NULL AND failed_at IS NULL`,
        [notificationId, page.index, page.lastDeviceId, page.last, page.leaseMs],
      );
      if (rowCount === 0) return false;
      if (deliveries.length > 0) {
        await db.query(
          `INSERT INTO segment_notification_deliveries (id, notification_id, release_id, scheduled_for, device_count, token_hash, token_expires_at, bundle_version, arm_key)
           SELECT d.id, $1, $2, d.scheduled_for, d.device_count, d.token_hash, d.token_expires_at, d.bundle_version, d.arm_key
             FROM unnest($3::text[], $4::timestamptz[], $5::int[], $6::text[], $7::timestamptz[], $8::text[], $9::text[])
                  AS d (id, scheduled_for, device_count, token_hash, token_expires_at, bundle_version, arm_key)
           ON CONFLICT (id) DO NOTHING`,
          [
            notificationId,
            releaseId,
            deliveries.map((d) => d.id),
            deliveries.map((d) => new Date(d.scheduledFor)),
            deliveries.map((d) => d.deviceIds.length),
            deliveries.map((d) => d.tokenHash),
            deliveries.map((d) => (d.tokenExpiresAt === null ? null : new Date(d.tokenExpiresAt))),
            deliveries.map((d) => d.bundleVersion),
            deliveries.map((d) => d.arm),
          ],
        );
        const paged = deliveries.filter((d) => d.tokenHash !== null);
        if (paged.length > 0) {
          await db.query(
            `INSERT INTO segment_notification_devices (delivery_id, device_id)
             SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`,
            [paged.flatMap((d) => d.deviceIds.map(() => d.id)), paged.flatMap((d) => d.deviceIds)],
          );
        }
      }
      return true;
    },
    async retryLater(notificationId, delayMs, error) {
      await db.query(
        `UPDATE segment_notifications SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000), last_error = $3
          WHERE id = $1 AND prepared_at IS NULL AND failed_at IS NULL`,
        [notificationId, delayMs, error],
      );
    },
    async giveUp(notificationId, error) {
      const { rowCount } = await db.query(
        'UPDATE segment_notifications SET failed_at = now(), last_error = $2 WHERE id = $1 AND prepared_at IS NULL AND failed_at IS NULL',
        [notificationId, error],
      );
      return rowCount === 1;
    },
    async listForRelease(releaseId) {
      const [notifications, deliveries] = await Promise.all([
        db.query<{
          id: string;
          segment_key: string;
          stage_index: number;
          from_bps: number;
          to_bps: number;
          created_at: Date;
          prepared_at: Date | null;
          failed_at: Date | null;
          attempts: number;
          last_error: string | null;
        }>(
          `SELECT sn.id, sn.segment_key, sn.stage_index, sn.from_bps, sn.to_bps, sn.created_at, sn.prepared_at, sn.failed_at, sn.attempts, sn.last_error
             FROM segment_notifications sn WHERE sn.release_id = $1 ORDER BY sn.id`,
          [releaseId],
        ),
        db.query<{
          id: string;
          notification_id: string;
          scheduled_for: Date;
          bundle_version: string | null;
          arm_key: string | null;
          device_count: number;
          paged: boolean;
          relays: Array<{ webhook_id: string; attempts: number; outcome: string | null; last_error: string | null; finished_at: string | null }>;
        }>(
          `SELECT d.id, d.notification_id, d.scheduled_for, d.bundle_version, d.arm_key, d.device_count, (d.token_expires_at IS NOT NULL) AS paged,
                  COALESCE((SELECT json_agg(json_build_object('webhook_id', o.webhook_id, 'attempts', o.attempts, 'outcome', o.outcome,
                                                              'last_error', o.last_error, 'finished_at', o.finished_at) ORDER BY o.webhook_id)
                              FROM webhook_outbox o WHERE o.idempotency_key = d.id), '[]'::json) AS relays
             FROM segment_notification_deliveries d WHERE d.release_id = $1 ORDER BY d.scheduled_for, d.arm_key, d.id`,
          [releaseId],
        ),
      ]);
      return notifications.rows.map((n) => ({
        id: Number(n.id),
        segment: n.segment_key,
        stageIndex: n.stage_index,
        fromBps: n.from_bps,
        toBps: n.to_bps,
        createdAt: n.created_at.toISOString(),
        preparedAt: iso(n.prepared_at),
        failedAt: iso(n.failed_at),
        attempts: n.attempts,
        lastError: n.last_error,
        deliveries: deliveries.rows
          .filter((d) => d.notification_id === n.id)
          .map((d) => ({
            id: d.id,
            scheduledFor: d.scheduled_for.toISOString(),
            bundleVersion: d.bundle_version,
            arm: d.arm_key,
            deviceCount: d.device_count,
            devicesBy: d.paged ? 'token' : 'payload',
            relays: d.relays.map((r) => ({ webhookId: r.webhook_id, attempts: r.attempts, outcome: r.outcome, lastError: r.last_error, finishedAt: r.finished_at })),
          })),
      }));
    },
    async devicesPage(tokenHash, after, limit) {
      const { rows } = await db.query<{ id: string; release_id: string; device_count: number; device_id: string | null }>(
        `SELECT d.id, d.release_id, d.device_count, nd.device_id
           FROM segment_notification_deliveries d
           LEFT JOIN LATERAL (
             SELECT x.device_id FROM segment_notification_devices x
              WHERE x.delivery_id = d.id AND ($2::text IS NULL OR x.device_id > $2)
              ORDER BY x.device_id LIMIT $3
           ) nd ON TRUE
          WHERE d.token_hash = $1 AND d.token_expires_at > now()`,
        [tokenHash, after, limit],
      );
      const first = rows[0];
      if (!first) return null;
      return { releaseId: first.release_id, deliveryId: first.id, deviceCount: first.device_count, deviceIds: rows.flatMap((r) => (r.device_id === null ? [] : [r.device_id])) };
    },
    async countUnprepared() {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM segment_notifications sn WHERE sn.prepared_at IS NULL AND sn.failed_at IS NULL');
      return rows[0]?.n ?? 0;
    },
    async purgeExpiredDevices(now, limit) {
      const { rowCount } = await db.query(
        `WITH expired AS (
           SELECT x.delivery_id, x.device_id FROM segment_notification_deliveries d
             JOIN segment_notification_devices x ON x.delivery_id = d.id
            WHERE d.token_hash IS NOT NULL AND d.token_expires_at <= $1
            LIMIT $2
         )
         DELETE FROM segment_notification_devices x USING expired e WHERE x.delivery_id = e.delivery_id AND x.device_id = e.device_id`,
        [now, limit],
      );
      return rowCount ?? 0;
    },
    async forgetExpiredTokens(now) {
      const { rowCount } = await db.query(
        `UPDATE segment_notification_deliveries d SET token_hash = NULL
          WHERE d.token_hash IS NOT NULL AND d.token_expires_at <= $1
            AND NOT EXISTS (SELECT 1 FROM segment_notification_devices x WHERE x.delivery_id = d.id)`,
        [now],
      );
      return rowCount ?? 0;
    },
  };
}

function quietHoursOf(start: string | null, end: string | null): QuietHours | null {
  return start !== null && end !== null ? { start, end } : null;
}
