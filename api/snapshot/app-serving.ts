import type { AppDefinitions } from '../../db/read-models/serving-read-model';
import type { DeviceOverride } from '../../db/stores/channel-override-store';
import type { Channel, ChannelOverride } from '../../domain/channel';
import type { SegmentDefinition } from '../../domain/segment';
import { compileSegments, usesEngagement, type SegmentResolver } from '../../domain/segment-rules';
import { versionsKeptBy, type ChannelServing, type ServingRelease } from '../../domain/serving';
import { createAnswerSigner, type AnswerSigner } from '../../platform/answer-signing';

/** Everything an update check for one app is answered from. */
export interface AppServing {
  appId: string;
  channels: ReadonlyMap<string, Channel>;
  /** Per channel: its newest release and the versions devices must leave. */
  serving: ReadonlyMap<string, ChannelServing>;
  /** CodePush deployment key → channel name. */
  deploymentKeys: ReadonlyMap<string, string>;
  overrides: ReadonlyMap<string, ChannelOverride>;
  /** Overrides devices chose themselves (legacy Capgo): bounded per app. */
  readonly selfAssignments: number;
  /**
   * Applies a device's own choice (null: drops it) on this instance only, ahead of the NOTIFY that
   * brings the stored row to every instance; an admin override stays.
   */
  assignLocally(deviceId: string, channel: string | null): void;
  segments: readonly SegmentDefinition[];
  resolveSegment: SegmentResolver;
  /** Some rule looks at sessions or days since first seen: device engagement must be loaded. */
  needsEngagement: boolean;
  /** Signs update-check answers with the app's active key; null while the app has none. */
  signer: AnswerSigner | null;
}

/**
 * An app's device overrides, changed in place one device at a time: an update costs the devices it
 * names, not the app's overrides.
 */
export interface OverrideTable {
  readonly byDevice: ReadonlyMap<string, ChannelOverride>;
  readonly selfAssignments: number;
  /** The stored state of one device: its override, or null for none. */
  put(deviceId: string, override: ChannelOverride | null): void;
}

export function createOverrideTable(overrides: readonly DeviceOverride[]): OverrideTable {
  const byDevice = new Map<string, ChannelOverride>();
  // An app has a few channels and two sources: devices share the same few (frozen) values, so a
  // million overrides cost their ids and map entries, not a million objects.
  const values = new Map<string, ChannelOverride>();
  const valueOf = ({ channel, source }: ChannelOverride) => {
    const key = `${source}\u0000${channel}`;
    let value = values.get(key);
    if (!value) values.set(key, (value = Object.freeze({ channel, source })));
    return value;
  };
  let selfAssignments = 0;
  const put = (deviceId: string, override: ChannelOverride | null) => {
    if (byDevice.get(deviceId)?.source === 'self') selfAssignments -= 1;
    if (override === null) {
      byDevice.delete(deviceId);
      return;
    }
    byDevice.set(deviceId, valueOf(override));
    if (override.source === 'self') selfAssignments += 1;
  };
  for (const o of overrides) put(o.deviceId, o);
  return {
    byDevice,
    get selfAssignments() {
      return selfAssignments;
    },
    put,
  };
}

/**
 * The versions a channel's devices must leave, as a view over every version its withdrawn releases
 * shipped (which only grows): the current release's own bundles are kept out without copying the set.
 */
function withdrawnView(all: ReadonlySet<string>, current: ServingRelease): ReadonlySet<string> {
  const kept = new Set(versionsKeptBy(current));
  const has = (version: string) => all.has(version) && !kept.has(version);
  function* values(): SetIterator<string> {
    for (const version of all) if (!kept.has(version)) yield version;
  }
  function* entries(): SetIterator<[string, string]> {
    for (const version of values()) yield [version, version];
  }
  return {
    has,
    get size() {
      let size = all.size;
      for (const version of kept) if (all.has(version)) size -= 1;
      return size;
    },
    values,
    keys: values,
    entries,
    [Symbol.iterator]: values,
    forEach(callback, thisArg?: unknown) {
      for (const version of values()) callback.call(thisArg, version, version, this);
    },
  };
}

/** One channel's serving from its newest release and the versions its withdrawn releases shipped. */
export function channelServing(current: ServingRelease, withdrawnVersions: ReadonlySet<string>): ChannelServing {
  return { current, withdrawnVersions: withdrawnView(withdrawnVersions, current) };
}

/** Release order within a channel: the later created (then the greater id) is the channel's current. */
export const isNewerRelease = (a: ServingRelease, b: ServingRelease) => a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.releaseId.localeCompare(b.releaseId) > 0);

/** The app as checks see it, over serving and overrides that the snapshot keeps changing in place. */
export function buildAppServing(definitions: AppDefinitions, serving: ReadonlyMap<string, ChannelServing>, overrides: OverrideTable): AppServing {
  return {
    appId: definitions.appId,
    channels: new Map(definitions.channels.map((c) => [c.name, c])),
    serving,
    deploymentKeys: new Map(definitions.channels.map((c) => [c.deploymentKey, c.name])),
    overrides: overrides.byDevice,
    get selfAssignments() {
      return overrides.selfAssignments;
    },
    assignLocally(deviceId, channel) {
      if (overrides.byDevice.get(deviceId)?.source === 'admin') return;
      overrides.put(deviceId, channel === null ? null : { channel, source: 'self' });
    },
    segments: definitions.segments,
    resolveSegment: compileSegments(definitions.segments),
    needsEngagement: definitions.segments.some((s) => usesEngagement(s.rule)),
    signer: definitions.signingKey ? lazySigner(definitions.signingKey.id, definitions.signingKey.privateKeyPem) : null,
  };
}

/**
 * Parsing a private key costs about a millisecond: at start, an instance holding 10,000 apps would
 * spend its load doing that for apps no device asks about. The key is parsed on the first answer.
 */
function lazySigner(keyId: string, privateKeyPem: string): AnswerSigner {
  let signer: AnswerSigner | null = null;
  return (body) => (signer ??= createAnswerSigner(keyId, privateKeyPem))(body);
}
