import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundleRef, servingRelease } from '../../support/fixtures';
import { bucketOf } from '../../../domain/bucketing';
import { mappingProblems, releaseVersions, targetFor, type MappingCheck } from '../../../domain/personalization';
import { buildChannelServing, decide, type DeviceContext, type ServingRelease } from '../../../domain/serving';
import { attributeEvent } from '../../../domain/telemetry';

const power = bundleRef('2.1.0');
const fresh = bundleRef('2.2.0', { nativeRange: '>=6.0.0' });

const release = (over: Partial<ServingRelease> = {}): ServingRelease =>
  servingRelease({ exposure: { default: 5000, power: 5000, new: 5000 }, segmentTargets: { power, new: fresh }, ...over });

function deviceAt(from: number, to: number, prefix = 'dev'): string {
  for (let i = 0; ; i++) {
    const b = bucketOf('salt', `${prefix}-${i}`);
    if (b >= from && b < to) return `${prefix}-${i}`;
  }
}

const ctx = (deviceId: string, over: Partial<DeviceContext> = {}): DeviceContext => ({
  deviceId,
  platform: 'ios',
  nativeVersion: '6.1.0',
  bundleVersion: '1.0.0',
  segment: 'default',
  ...over,
});

const serve = (...releases: ServingRelease[]) => buildChannelServing(releases).get('production');

describe('personalized decide', () => {
  const canary = deviceAt(0, 5000);
  const control = deviceAt(5000, 10_000);

  it("gives each segment's canary its own bundle and everyone else the main one", () => {
    const serving = serve(release());
    expect(decide(serving, ctx(canary, { segment: 'power' }))).toMatchObject({ action: 'update', bundle: { version: '2.1.0' }, cohort: 'canary' });
    expect(decide(serving, ctx(canary, { segment: 'new' }))).toMatchObject({ action: 'update', bundle: { version: '2.2.0' } });
    expect(decide(serving, ctx(canary, { segment: 'default' }))).toMatchObject({ action: 'update', bundle: { version: '2.0.0' } });
    expect(decide(serving, ctx(control, { segment: 'power' }))).toMatchObject({ action: 'none', cohort: 'control' });
  });

  it("lets a device keep its segment's bundle, and moves one running another segment's bundle", () => {
    const serving = serve(release());
    expect(decide(serving, ctx(canary, { segment: 'power', bundleVersion: '2.1.0' })).action).toBe('none');
    expect(decide(serving, ctx(canary, { segment: 'new', bundleVersion: '2.1.0' }))).toMatchObject({ action: 'update', bundle: { version: '2.2.0' } });
  });

  it("checks the native range of the segment's own bundle", () => {
    const serving = serve(release());
    // 2.2.0 needs native 6: an older binary in `new` keeps the baseline and is told to update from the store.
    const old = decide(serving, ctx(canary, { segment: 'new', nativeVersion: '5.0.0' }));
    expect(old).toMatchObject({ action: 'none', nativeUpdate: { version: '2.2.0', nativeRange: '>=6.0.0' } });
    expect(decide(serving, ctx(canary, { segment: 'power', nativeVersion: '5.0.0' }))).toMatchObject({ action: 'update', bundle: { version: '2.1.0' }, nativeUpdate: null });
  });

  it('sends devices on any bundle of a withdrawn personalized release back to the baseline', () => {
    const withdrawn = release({ status: 'rolled_back', exposure: { default: 0, power: 0, new: 0 } });
    const serving = serve(withdrawn);
    for (const [segment, version] of [['power', '2.1.0'], ['new', '2.2.0'], ['default', '2.0.0']] as const) {
      expect(decide(serving, ctx(canary, { segment, bundleVersion: version }))).toMatchObject({ action: 'rollback', bundle: { version: '1.0.0' } });
    }
    // A later release on the channel still sends devices off every bundle the withdrawn one shipped.
    const next = release({ releaseId: 'r3', createdAt: 3, segmentTargets: {}, target: bundleRef('3.0.0'), exposure: { default: 0 } });
    const later = serve(withdrawn, next);
    expect(later?.withdrawnVersions.has('2.1.0')).toBe(true);
    expect(later?.withdrawnVersions.has('2.2.0')).toBe(true);
    expect(decide(later, ctx(control, { segment: 'power', bundleVersion: '2.1.0' }))).toMatchObject({ action: 'rollback' });
  });

  it('serves every segment its bundle once the release completed', () => {
    const serving = serve(release({ status: 'completed' }));
    expect(decide(serving, ctx(control, { segment: 'power' }))).toMatchObject({ action: 'update', bundle: { version: '2.1.0' } });
    expect(decide(serving, ctx(control, { segment: 'enterprise' }))).toMatchObject({ action: 'update', bundle: { version: '2.0.0' } });
  });

  it("shares one decision per segment bundle: a segment's answer never names another's bundle", () => {
    const serving = serve(release());
    fc.assert(
      fc.property(fc.constantFrom('power', 'new', 'default', 'other'), fc.integer({ min: 0, max: 5000 }), (segment, n) => {
        const decision = decide(serving, ctx(`p-${n}`, { segment }));
        if (decision.action === 'update' && decision.cohort === 'canary') expect(decision.bundle.version).toBe(targetFor(serving!.current, segment).version);
      }),
    );
  });

  it("attributes a canary's events to the release when it runs its segment's bundle", () => {
    const serving = serve(release());
    expect(attributeEvent(serving, canary, 'power', '2.1.0')).toMatchObject({ cohort: 'canary', onCohortBundle: true });
    expect(attributeEvent(serving, canary, 'power', '2.0.0')).toMatchObject({ cohort: 'none', onCohortBundle: false });
    expect(attributeEvent(serving, canary, 'default', '2.0.0')).toMatchObject({ cohort: 'canary' });
  });

  it('lists every bundle of a release once, main first', () => {
    expect(releaseVersions(release({ segmentTargets: { a: power, b: power } }))).toEqual(['2.0.0', '2.1.0']);
  });
});

describe(mappingProblems.name, () => {
  const check = (over: Partial<MappingCheck> = {}): MappingCheck => ({
    mapping: { power: '2.1.0' },
    appSegments: ['beta', 'power', 'new', 'default'],
    planSegments: ['beta', 'power', 'default'],
    main: bundleRef('2.0.0', { nativeRange: '>=5.0.0' }),
    baselineVersion: '1.0.0',
    bundles: new Map([
      ['2.1.0', bundleRef('2.1.0')],
      ['1.0.0', bundleRef('1.0.0')],
      ['2.0.0', bundleRef('2.0.0')],
      ['9.0.0', bundleRef('9.0.0', { platforms: ['web'], nativeRange: '<4.0.0' })],
    ]),
    ...over,
  });

  it('accepts a mapping of a plan segment to a compatible bundle', () => {
    expect(mappingProblems(check())).toEqual([]);
  });

  it('names each problem with what to fix', () => {
    const messages = (mapping: Record<string, string>) => mappingProblems(check({ mapping })).map((p) => `${p.path}: ${p.message}`);
    expect(messages({ vip: '2.1.0' })[0]).toContain('the app has no segment vip; its segments are beta, power, new, default');
    expect(messages({ new: '2.1.0' })[0]).toContain('the plan never exposes segment new');
    expect(messages({ power: '7.0.0' })[0]).toContain('no bundle 7.0.0; upload it first');
    expect(messages({ power: '2.0.0' })[0]).toContain("is the release's main bundle already");
    expect(messages({ power: '1.0.0' })[0]).toContain("the channel's baseline");
    const incompatible = messages({ power: '9.0.0' });
    expect(incompatible[0]).toContain('runs on web but the release');
    expect(incompatible[1]).toContain('needs native <4.0.0, which no device running 2.0.0 (native >=5.0.0) has');
  });
});
