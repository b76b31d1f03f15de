import type { Stores } from '../../db/create-stores';
import type { Platform } from '../../domain/bundle';
import { resolveChannel } from '../../domain/channel';
import { isTerminal } from '../../domain/release';
import { DEFAULT_SEGMENT } from '../../domain/segment';
import type { AttributeValue, DeviceRuleContext } from '../../domain/segment-rules';
import { decide, type Decision, type DeviceContext } from '../../domain/serving';
import type { ApiMetrics } from '../api-metrics';
import type { AppServing, RolloutSnapshot } from '../snapshot/rollout-snapshot';
import type { IncomingEvent, TelemetryService } from '../telemetry/telemetry-service';
import type { DeviceProfiles } from './device-profiles';
import type { RateLimiter, RateVerdict } from './rate-limiter';
import type { SourceLimiter, SourceVerdict } from './source-limiter';

export type DeviceProtocol = 'native' | 'capgo' | 'codepush' | 'expo';

/** What a device says about itself, in any of the three protocols. */
export interface DeviceSays {
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
  /** IANA zone (native protocol only), for quiet hours of segment notifications. */
  timeZone?: string | undefined;
}

/**
 * The one object a request's device is known by: what it says, then its channel, engagement and
 * segment as the service resolves them, filled in place. Segment rules and decide() read it as it is,
 * so a check builds no other view of the device.
 */
export interface DeviceIdentity extends DeviceRuleContext, DeviceContext {
  appId: string;
  requestedChannel: string | undefined;
  keyedChannel: string | undefined;
  timeZone: string | null;
}

// Shared by devices that send no attributes; told apart from an empty object a device sent, which is stored.
const NO_ATTRIBUTES: Record<string, AttributeValue> = Object.freeze({});

export function deviceIdentity(says: DeviceSays): DeviceIdentity {
  // Every field set here, in one order: the check path then sees a single object shape.
  return {
    appId: says.appId,
    deviceId: says.deviceId,
    platform: says.platform,
    nativeVersion: says.nativeVersion,
    bundleVersion: says.bundleVersion,
    requestedChannel: says.requestedChannel,
    keyedChannel: says.keyedChannel,
    attributes: says.attributes ?? NO_ATTRIBUTES,
    timeZone: says.timeZone ?? null,
    channel: '',
    sessionsLast7d: null,
    daysSinceFirstSeen: null,
    segment: DEFAULT_SEGMENT,
  };
}

export interface ResolvedDevice {
  app: AppServing;
  /** null: no channel serves this device (none public for its platform, none it may use). */
  channel: string | null;
  segment: string;
}

export interface CheckResult extends ResolvedDevice {
  /** Shared by every device that gets the same answer from the same release revision: read only. */
  decision: Decision;
}

/**
 * Every method takes the app its caller looked up once for the request (`app(appId)`, or the
 * deployment key's app), already past admission.
 */
export interface DeviceService {
  app(appId: string): AppServing | undefined;
  /** Channel and segment of a device (filled into `device`). */
  resolve(app: AppServing, device: DeviceIdentity): ResolvedDevice;
  /** The answer to an update check, from memory only. */
  check(app: AppServing, device: DeviceIdentity, protocol: DeviceProtocol): CheckResult;
  /** Makes the device's events durable (attributed to its channel's release). */
  report(app: AppServing, device: DeviceIdentity, events: IncomingEvent[]): Promise<void>;
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

  const resolveIn = (app: AppServing, device: DeviceIdentity, now: number): ResolvedDevice => {
    const channel = resolveChannel(app.channels, {
      override: app.overrides.get(device.deviceId),
      keyed: device.keyedChannel,
      requested: device.requestedChannel,
      platform: device.platform,
    });
    device.channel = channel ?? '';
    if (app.segments.length > 0) {
      const engagement = app.needsEngagement ? profiles.engagement(app.appId, device.deviceId, now) : null;
      if (engagement !== null) {
        device.sessionsLast7d = engagement.sessionsLast7d;
        device.daysSinceFirstSeen = engagement.daysSinceFirstSeen;
      }
      device.segment = app.resolveSegment(device);
    }
    return { app, channel, segment: device.segment };
  };

  const sighted = (device: DeviceIdentity, channel: string | null, now: number) =>
    profiles.sighted(
      {
        appId: device.appId,
        deviceId: device.deviceId,
        platform: device.platform,
        // Some reports do not say (CodePush downloads): an empty value must not overwrite what is known.
        nativeVersion: device.nativeVersion || null,
        bundleVersion: device.bundleVersion || null,
        channel,
        attributes: device.attributes === NO_ATTRIBUTES ? null : device.attributes,
        timeZone: device.timeZone,
      },
      now,
    );

  return {
    app: (appId) => snapshot.app(appId),
    resolve: (app, device) => resolveIn(app, device, Date.now()),
    check(app, device, protocol) {
      const now = Date.now();
      const resolved = resolveIn(app, device, now);
      const serving = resolved.channel === null ? undefined : app.serving.get(resolved.channel);
      const decision = decide(serving, device);
      sighted(device, resolved.channel, now);
      // Only a release in flight has gates that ask whether a device was served.
      if (decision.cohort !== 'none' && serving !== undefined && !isTerminal(serving.current.status) && decision.releaseId !== null) {
        profiles.served(app.appId, decision.releaseId, device.deviceId, now);
      }
      deps.metrics.updateChecks.inc(protocol, decision.action, decision.cohort);
      const arm = decision.experimentArm;
      if (arm !== undefined) deps.metrics.experimentDecisions.inc(decision.cohort === 'control' ? 'control' : 'treatment', arm.installMode, decision.action);
      return { app, channel: resolved.channel, segment: resolved.segment, decision };
    },
    async report(app, device, events) {
      const now = Date.now();
      const resolved = resolveIn(app, device, now);
      await deps.telemetry.ingest({ appId: app.appId, deviceId: device.deviceId, channel: resolved.channel, segment: resolved.segment, events });
      sighted(device, resolved.channel, now);
      const sessionsByDay = new Map<string, number>();
      for (const e of events) {
        if (e.type !== 'session_start') continue;
        const day = e.at.toISOString().slice(0, 10);
        sessionsByDay.set(day, (sessionsByDay.get(day) ?? 0) + 1);
      }
      for (const [day, count] of sessionsByDay) profiles.sessionsStarted(app.appId, device.deviceId, day, count);
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
