import type { Stores } from '../../db/create-stores';
import type { Platform } from '../../domain/bundle';
import { resolveChannel } from '../../domain/channel';
import { isTerminal } from '../../domain/release';
import { DEFAULT_SEGMENT } from '../../domain/segment';
import type { AttributeValue } from '../../domain/segment-rules';
import { decide, type Decision } from '../../domain/serving';
import type { ApiMetrics } from '../api-metrics';
import type { AppServing, RolloutSnapshot } from '../snapshot/rollout-snapshot';
import type { IncomingEvent, TelemetryService } from '../telemetry/telemetry-service';
import type { DeviceProfiles } from './device-profiles';
import type { RateLimiter, RateVerdict } from './rate-limiter';
import type { SourceLimiter, SourceVerdict } from './source-limiter';

export type DeviceProtocol = 'native' | 'capgo' | 'codepush' | 'expo';

/** What a device says about itself, in any of the three protocols. */
export interface DeviceIdentity {
  appId: string;
  deviceId: string;
  /** null: the protocol does not say (CodePush). */
  platform: Platform | null;
  nativeVersion: string;
  /** The bundle it runs, or `builtin`. */
  bundleVersion: string;
  /** The channel the device asks for (native `channel`, Capgo `defaultChannel`). */
  requestedChannel?: string | undefined;
  /** The channel its credential names (CodePush deployment key). */
  keyedChannel?: string | undefined;
  attributes?: Record<string, AttributeValue> | undefined;
}

export interface ResolvedDevice {
  app: AppServing;
  /** null: no channel serves this device (none public for its platform, none it may use). */
  channel: string | null;
  segment: string;
}

export interface CheckResult extends ResolvedDevice {
  decision: Decision;
}

export interface DeviceService {
  app(appId: string): AppServing | undefined;
  /** Channel and segment of a device; undefined for an unknown app. */
  resolve(identity: DeviceIdentity): ResolvedDevice | undefined;
  /** The answer to an update check, from memory only; undefined for an unknown app. */
  check(identity: DeviceIdentity, protocol: DeviceProtocol): CheckResult | undefined;
  /** Makes the device's events durable (attributed to its channel's release); false for an unknown app. */
  report(identity: DeviceIdentity, events: IncomingEvent[]): Promise<boolean>;
  /**
   * Per-device rate limit shared by every protocol, and the per-source limits of the request's
   * address (`source`; absent: a caller without one, not limited by source).
   */
  admit(appId: string, deviceId: string, source?: { address: string; events: number }): RateVerdict | SourceVerdict;
  /**
   * Stores a device's own choice of channel (legacy Capgo plugins expect the server to keep it);
   * the caller has checked that the channel allows self-assignment. False: the app holds as many
   * self-assignments as it may, and this device had none.
   */
  selfAssign(appId: string, deviceId: string, channel: string): Promise<boolean>;
  /** Drops a device's own channel choice; an admin override stays. Returns whether there was one. */
  clearSelfAssignment(appId: string, deviceId: string): Promise<boolean>;
}

export interface DeviceServiceDeps {
  stores: Pick<Stores, 'overrides' | 'changeFeed'>;
  snapshot: RolloutSnapshot;
  telemetry: TelemetryService;
  profiles: DeviceProfiles;
  limiter: RateLimiter;
  sources: SourceLimiter;
  metrics: ApiMetrics;
  /** Self-assignments each app may hold: every one costs each API instance memory. */
  maxSelfAssignmentsPerApp: number;
}

export function createDeviceService(deps: DeviceServiceDeps): DeviceService {
  const { snapshot, profiles } = deps;

  const resolveIn = (app: AppServing, identity: DeviceIdentity, now: number): ResolvedDevice => {
    const channel = resolveChannel(app.channels, {
      override: app.overrides.get(identity.deviceId),
      keyed: identity.keyedChannel,
      requested: identity.requestedChannel,
      platform: identity.platform,
    });
    const engagement = app.needsEngagement ? profiles.engagement(app.appId, identity.deviceId, now) : null;
    const segment =
      app.segments.length === 0
        ? DEFAULT_SEGMENT
        : app.resolveSegment({
            deviceId: identity.deviceId,
            platform: identity.platform,
            nativeVersion: identity.nativeVersion,
            bundleVersion: identity.bundleVersion,
            channel: channel ?? '',
            attributes: identity.attributes ?? {},
            sessionsLast7d: engagement?.sessionsLast7d ?? null,
            daysSinceFirstSeen: engagement?.daysSinceFirstSeen ?? null,
          });
    return { app, channel, segment };
  };

  const sighted = (identity: DeviceIdentity, channel: string | null, now: number) =>
    profiles.sighted({
      appId: identity.appId,
      deviceId: identity.deviceId,
      platform: identity.platform,
      // Some reports do not say (CodePush downloads): an empty value must not overwrite what is known.
      nativeVersion: identity.nativeVersion || null,
      bundleVersion: identity.bundleVersion || null,
      channel,
      attributes: identity.attributes ?? null,
      seenAt: new Date(now),
    });

  return {
    app: (appId) => snapshot.app(appId),
    resolve(identity) {
      const app = snapshot.app(identity.appId);
      return app && resolveIn(app, identity, Date.now());
    },
    check(identity, protocol) {
      const app = snapshot.app(identity.appId);
      if (!app) return undefined;
      const now = Date.now();
      const resolved = resolveIn(app, identity, now);
      const serving = resolved.channel === null ? undefined : app.serving.get(resolved.channel);
      const decision = decide(serving, {
        deviceId: identity.deviceId,
        platform: identity.platform,
        nativeVersion: identity.nativeVersion,
        bundleVersion: identity.bundleVersion,
        segment: resolved.segment,
      });
      sighted(identity, resolved.channel, now);
      // Only a release in flight has gates that ask whether a device was served.
      if (decision.cohort !== 'none' && serving !== undefined && !isTerminal(serving.current.status) && decision.releaseId !== null) {
        profiles.served(identity.appId, decision.releaseId, identity.deviceId, now);
      }
      deps.metrics.updateChecks.inc(protocol, decision.action, decision.cohort);
      return { ...resolved, decision };
    },
    async report(identity, events) {
      const app = snapshot.app(identity.appId);
      if (!app) return false;
      const now = Date.now();
      const resolved = resolveIn(app, identity, now);
      await deps.telemetry.ingest({ appId: identity.appId, deviceId: identity.deviceId, channel: resolved.channel, segment: resolved.segment, events });
      sighted(identity, resolved.channel, now);
      const sessionsByDay = new Map<string, number>();
      for (const e of events) {
        if (e.type !== 'session_start') continue;
        const day = e.at.toISOString().slice(0, 10);
        sessionsByDay.set(day, (sessionsByDay.get(day) ?? 0) + 1);
      }
      for (const [day, count] of sessionsByDay) profiles.sessionsStarted(identity.appId, identity.deviceId, day, count);
      return true;
    },
    // Applied on this instance only, not NOTIFYed: a NOTIFY would make every instance reload every
    // override of the app per device that chooses. Other instances serve the choice from their next
    // reload of the app (any change to it, or the periodic reconcile); until then they serve the
    // device as if it had not chosen.
    async selfAssign(appId, deviceId, channel) {
      const app = snapshot.app(appId);
      const current = app?.overrides.get(deviceId);
      if (current?.source === 'admin') return true;
      if (!current && app && app.selfAssignments >= deps.maxSelfAssignmentsPerApp) return false;
      await deps.stores.overrides.set(appId, deviceId, channel, 'self');
      app?.assignLocally(deviceId, channel);
      return true;
    },
    async clearSelfAssignment(appId, deviceId) {
      const removed = await deps.stores.overrides.remove(appId, deviceId, 'self');
      if (removed) snapshot.app(appId)?.assignLocally(deviceId, null);
      return removed;
    },
    admit(appId, deviceId, source) {
      if (source !== undefined) {
        const bySource = deps.sources.take(source.address, !deps.limiter.knows(appId, deviceId), source.events);
        if (!bySource.allowed) {
          deps.metrics.sourceLimited.inc({ limit: bySource.limit });
          return bySource;
        }
      }
      const verdict = deps.limiter.take(appId, deviceId);
      if (!verdict.allowed) deps.metrics.rateLimited.inc();
      return verdict;
    },
  };
}
