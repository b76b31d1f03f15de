import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundleRef } from '../../support/fixtures';
import { bucketOf } from '../../../domain/bucketing';
import { PLATFORMS, type Platform } from '../../../domain/bundle';
import { explainChannel, resolveChannel, type Channel, type ChannelOverride, type ChannelRequest } from '../../../domain/channel';
import { explainAssignment, type ProfiledDevice } from '../../../domain/device-story';
import { compileSegments, explainSegment, type DeviceRuleContext, type RankedSegment } from '../../../domain/segment-rules';
import { buildChannelServing, decide, type ServingRelease } from '../../../domain/serving';

const channel = (name: string, over: Partial<Channel> = {}): Channel => ({
  appId: 'com.example.app',
  name,
  public: false,
  allowSelfAssign: false,
  platforms: [...PLATFORMS],
  deploymentKey: `dk_${name}`,
  createdAt: '2024-01-01T00:00:00Z',
  ...over,
});

const channelMap = (...list: Channel[]) => new Map(list.map((c) => [c.name, c]));

const channels = channelMap(
  channel('production', { public: true }),
  channel('beta', { allowSelfAssign: true }),
  channel('internal'),
  channel('ios-only', { public: false, allowSelfAssign: true, platforms: ['ios'] }),
);

const request = (over: Partial<ChannelRequest> = {}): ChannelRequest => ({ override: undefined, platform: 'android', ...over });

describe(explainChannel.name, () => {
  it('names each step of the resolution', () => {
    expect(explainChannel(channels, request({ override: { channel: 'internal', source: 'admin' }, requested: 'beta' }))).toEqual({ channel: 'internal', step: 'admin_override' });
    expect(explainChannel(channels, request({ override: { channel: 'beta', source: 'self' }, keyed: 'internal' }))).toEqual({ channel: 'beta', step: 'self_assigned' });
    expect(explainChannel(channels, request({ keyed: 'internal', requested: 'beta' }))).toEqual({ channel: 'internal', step: 'deployment_key' });
    expect(explainChannel(channels, request({ requested: 'beta' }))).toEqual({ channel: 'beta', step: 'requested' });
    expect(explainChannel(channels, request())).toEqual({ channel: 'production', step: 'public_default' });
    expect(explainChannel(channelMap(channel('internal')), request())).toEqual({ channel: null, step: 'none' });
  });

  it('skips steps that may not decide: a self-assignment the channel no longer allows, a channel not for the platform, unknown names', () => {
    expect(explainChannel(channels, request({ override: { channel: 'internal', source: 'self' } }))).toEqual({ channel: 'production', step: 'public_default' });
    expect(explainChannel(channels, request({ requested: 'ios-only' }))).toEqual({ channel: 'production', step: 'public_default' });
    expect(explainChannel(channels, request({ requested: 'ios-only', platform: 'ios' }))).toEqual({ channel: 'ios-only', step: 'requested' });
    expect(explainChannel(channels, request({ requested: 'internal' }))).toEqual({ channel: 'production', step: 'public_default' });
    expect(explainChannel(channels, request({ override: { channel: 'gone', source: 'admin' }, keyed: 'gone-too' }))).toEqual({ channel: 'production', step: 'public_default' });
  });

  it('agrees with resolveChannel on random channels and requests', () => {
    const name = fc.constantFrom('a', 'b', 'c', 'd');
    const platform = fc.constantFrom<Platform | null>(null, ...PLATFORMS);
    const channelArb = fc.record({
      name,
      public: fc.boolean(),
      allowSelfAssign: fc.boolean(),
      platforms: fc.subarray([...PLATFORMS], { minLength: 1 }),
    });
    const override = fc.option(fc.record({ channel: name, source: fc.constantFrom<ChannelOverride['source']>('admin', 'self') }), { nil: undefined });
    fc.assert(
      fc.property(fc.array(channelArb, { maxLength: 4 }), override, fc.option(name, { nil: undefined }), fc.option(name, { nil: undefined }), platform, (list, ov, keyed, requested, p) => {
        const map = channelMap(...list.map((c) => channel(c.name, c)));
        const req: ChannelRequest = { override: ov, keyed, requested, platform: p };
        const explained = explainChannel(map, req);
        expect(explained.channel).toBe(resolveChannel(map, req));
        expect(explained.step === 'none').toBe(explained.channel === null);
      }),
    );
  });
});

const device = (over: Partial<DeviceRuleContext> = {}): DeviceRuleContext => ({
  deviceId: 'device-1',
  platform: 'ios',
  nativeVersion: '3.1.0',
  bundleVersion: '1.0.0',
  channel: 'production',
  attributes: { plan: 'enterprise', tester: false },
  sessionsLast7d: 12,
  daysSinceFirstSeen: 40,
  ...over,
});

describe(explainSegment.name, () => {
  const enterprise: RankedSegment = { key: 'enterprise', priority: 20, rule: { attribute: 'attributes.plan', op: 'eq', value: 'enterprise' } };
  const power: RankedSegment = { key: 'power', priority: 10, rule: { attribute: 'sessionsLast7d', op: 'gte', value: 10 } };
  const beta: RankedSegment = { key: 'beta', priority: 5, rule: { attribute: 'attributes.tester', op: 'is_true' } };

  it('names the first matching rule by priority, with the rule itself', () => {
    expect(explainSegment([enterprise, power, beta], device())).toEqual({ segment: 'power', matched: power });
    expect(explainSegment([enterprise, power, beta], device({ attributes: { tester: true } }))).toEqual({ segment: 'beta', matched: beta });
  });

  it('breaks priority ties by key', () => {
    const alpha: RankedSegment = { ...enterprise, key: 'alpha', priority: 10 };
    expect(explainSegment([power, alpha], device()).matched).toEqual(alpha);
  });

  it('says when no rule matched and the catch-all took the device', () => {
    expect(explainSegment([enterprise, beta], device({ attributes: {} }))).toEqual({ segment: 'default', matched: null });
    expect(explainSegment([], device())).toEqual({ segment: 'default', matched: null });
  });

  it('agrees with compileSegments on random segment lists and devices', () => {
    const rule = fc.constantFrom<RankedSegment['rule']>(
      { attribute: 'attributes.plan', op: 'in', values: ['enterprise', 'team'] },
      { attribute: 'sessionsLast7d', op: 'gte', value: 5 },
      { attribute: 'nativeVersion', op: 'semver_gte', value: '3.0.0' },
      { attribute: 'platform', op: 'eq', value: 'android' },
      { not: { attribute: 'attributes.tester', op: 'is_true' } },
      { always: true },
    );
    const segments = fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), priority: fc.integer({ min: 0, max: 3 }), rule }), { maxLength: 6 });
    const ctx = fc.record({
      platform: fc.constantFrom<Platform | null>(null, 'ios', 'android'),
      nativeVersion: fc.constantFrom('2.9.0', '3.0.0', '3.4 (12)', ''),
      sessionsLast7d: fc.option(fc.integer({ min: 0, max: 10 })),
      attributes: fc.record({ plan: fc.constantFrom('enterprise', 'team', 'free'), tester: fc.boolean() }, { requiredKeys: [] }),
    });
    fc.assert(
      fc.property(segments, ctx, (list, over) => {
        const d = device(over);
        expect(explainSegment(list, d).segment).toBe(compileSegments(list)(d));
      }),
    );
  });
});


const release: ServingRelease = {
  releaseId: 'r1',
  appId: 'com.example.app',
  channel: 'beta',
  bucketSalt: 'salt',
  windowMs: 1000,
  createdAt: 1,
  revision: 1,
  status: 'running',
  stageIndex: 1,
  exposure: { power: 2500, default: 100 },
  publishedAt: 0,
  target: bundleRef('2.0.0', { nativeRange: '>=4.0.0' }),
  fallback: bundleRef('1.0.0'),
};

describe(explainAssignment.name, () => {
  const profiled: ProfiledDevice = {
    deviceId: 'device-7',
    platform: 'ios',
    nativeVersion: '3.1.0',
    bundleVersion: '1.0.0',
    channel: 'production',
    attributes: {},
    sessionsLast7d: 30,
    daysSinceFirstSeen: 3,
  };
  const app = {
    channels,
    overrides: new Map<string, ChannelOverride>([['device-7', { channel: 'beta', source: 'admin' }]]),
    segments: [{ key: 'power', priority: 10, rule: { attribute: 'sessionsLast7d', op: 'gte', value: 10 } } satisfies RankedSegment],
    serving: buildChannelServing([release]),
  };

  it('tells channel step, rule, bucket, cohort and both bundles\' compatibility, and decides as decide does', () => {
    const story = explainAssignment(app, profiled);
    const bucket = bucketOf('salt', 'device-7');
    expect(story.channel).toEqual({ channel: 'beta', step: 'admin_override' });
    expect(story.segment.matched?.key).toBe('power');
    expect(story.release).toMatchObject({
      releaseId: 'r1',
      bucket,
      exposureBps: 2500,
      controlSlice: { fromBps: 2500, toBps: 5000 },
      cohort: bucket < 2500 ? 'canary' : bucket < 5000 ? 'control' : 'none',
      target: { version: '2.0.0', compatible: false, needsNativeUpdate: true },
      baseline: { version: '1.0.0', compatible: true, needsNativeUpdate: false },
      withdrawnVersions: [],
    });
    expect(story.decision).toEqual(decide(app.serving.get('beta'), { ...profiled, segment: 'power' }));
  });

  it('has no release to explain on a channel without one', () => {
    const story = explainAssignment({ ...app, overrides: new Map() }, profiled);
    expect(story.channel).toEqual({ channel: 'production', step: 'requested' });
    expect(story.release).toBeNull();
    expect(story.decision.action).toBe('none');
  });
});
