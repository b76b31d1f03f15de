import type { AppServingSource } from '../../db/read-models/serving-read-model';
import type { Channel, ChannelOverride } from '../../domain/channel';
import type { SegmentDefinition } from '../../domain/segment';
import { compileSegments, usesEngagement, type SegmentResolver } from '../../domain/segment-rules';
import { buildChannelServing, type ChannelServing } from '../../domain/serving';
import { createAnswerSigner, type AnswerSigner } from '../../platform/answer-signing';

/** Everything an update check for one app is answered from, prepared once per reload. */
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
   * Applies a device's own choice (null: drops it) on this instance only, without reloading the app;
   * an admin override stays. Other instances learn it on their next reload of the app.
   */
  assignLocally(deviceId: string, channel: string | null): void;
  segments: readonly SegmentDefinition[];
  resolveSegment: SegmentResolver;
  /** Some rule looks at sessions or days since first seen: device engagement must be loaded. */
  needsEngagement: boolean;
  /** Signs update-check answers with the app's active key; null while the app has none. */
  signer: AnswerSigner | null;
}

export function buildAppServing(source: AppServingSource): AppServing {
  const overrides = new Map(source.overrides.map((o) => [o.deviceId, { channel: o.channel, source: o.source }]));
  let selfAssignments = source.overrides.filter((o) => o.source === 'self').length;
  return {
    appId: source.appId,
    channels: new Map(source.channels.map((c) => [c.name, c])),
    serving: buildChannelServing(source.releases),
    deploymentKeys: new Map(source.channels.map((c) => [c.deploymentKey, c.name])),
    overrides,
    get selfAssignments() {
      return selfAssignments;
    },
    assignLocally(deviceId, channel) {
      const current = overrides.get(deviceId);
      if (current?.source === 'admin') return;
      if (current) selfAssignments -= 1;
      overrides.delete(deviceId);
      if (channel === null) return;
      overrides.set(deviceId, { channel, source: 'self' });
      selfAssignments += 1;
    },
    segments: source.segments,
    resolveSegment: compileSegments(source.segments),
    needsEngagement: source.segments.some((s) => usesEngagement(s.rule)),
    signer: source.signingKey ? createAnswerSigner(source.signingKey.id, source.signingKey.privateKeyPem) : null,
  };
}
