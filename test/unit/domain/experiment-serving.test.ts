import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundleRef, deviceContext, servingRelease } from '../../support/fixtures';
import { BPS_SCALE, bucketOf } from '../../../domain/bucketing';
import { armIndexOf, armShares } from '../../../domain/experiment';
import { armAmong, armOf, type ServingArm, type ServingExperiment } from '../../../domain/experiment-serving';
import { buildChannelServing, decide, type ServingRelease } from '../../../domain/serving';
import { attributeEvent } from '../../../domain/telemetry';

const arm = (key: string, version: string | null, over: Partial<ServingArm> = {}): ServingArm => ({
  key,
  bundle: version === null ? null : bundleRef(version),
  weight: 1,
  installMode: 'next_launch',
  control: version === null,
  stopped: false,
  ...over,
});

const experiment = (arms: ServingArm[]): ServingExperiment => ({ armSalt: 'arm-salt', arms });

const release = (over: Partial<ServingRelease> = {}): ServingRelease =>
  servingRelease({
    releaseId: 'x1',
    experiment: experiment([arm('a', null), arm('b', '2.0.0'), arm('c', '3.0.0', { installMode: 'immediate' })]),
    ...over,
  });

const ctx = deviceContext;

const serve = (r: ServingRelease) => buildChannelServing([r]).get('production');

/** The first device id inside the exposure whose arm is `key`. */
function deviceOfArm(r: ServingRelease, key: string): string {
  for (let i = 0; ; i++) {
    const id = `dev-${i}`;
    if (armOf(r, r.experiment!, id, 'default')?.key === key) return id;
  }
}

function deviceOutside(r: ServingRelease): string {
  for (let i = 0; ; i++) if (bucketOf(r.bucketSalt, `dev-${i}`) >= (r.exposure.default ?? 0)) return `dev-${i}`;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `device-${i}`);

describe(armIndexOf.name, () => {
  it('gives each arm its weight share of the devices', () => {
    const weights = [1, 2, 1];
    const counts = [0, 0, 0];
    for (const id of ids(40_000)) counts[armIndexOf('arm-salt', id, weights)!]!++;
    const shares = armShares(weights.map((weight) => ({ weight })));
    counts.forEach((c, i) => expect(Math.abs(c / 40_000 - shares[i]!)).toBeLessThan(0.01));
  });

  it('never assigns a device without a usable id', () => {
    expect(armIndexOf('s', '', [1, 1])).toBeNull();
    expect(armIndexOf('s', '   ', [1, 1])).toBeNull();
  });

  it('splits independently of every other release: inside another release canary the shares are the same', () => {
    const weights = [1, 1];
    const inCanary = [0, 0];
    const outside = [0, 0];
    for (const id of ids(40_000)) {
      const side = bucketOf('another-release', id) < 2000 ? inCanary : outside;
      side[armIndexOf('arm-salt', id, weights)!]!++;
    }
    expect(Math.abs(inCanary[0]! / (inCanary[0]! + inCanary[1]!) - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(outside[0]! / (outside[0]! + outside[1]!) - 0.5)).toBeLessThan(0.02);
  });
});

describe(armOf.name, () => {
  it('keeps every device in its arm as the exposure grows (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: BPS_SCALE }), fc.integer({ min: 0, max: BPS_SCALE }), (id, low, extra) => {
        fc.pre(id.trim().length > 0);
        const high = Math.min(BPS_SCALE, low + extra);
        const before = armOf(release({ exposure: { default: low } }), release().experiment!, id, 'default');
        const after = armOf(release({ exposure: { default: high } }), release().experiment!, id, 'default');
        if (before !== null) expect(after?.key).toBe(before.key);
      }),
    );
  });

  it('takes in exactly the devices under the exposure, by the release salt', () => {
    const r = release();
    for (const id of ids(2000)) expect(armOf(r, r.experiment!, id, 'default') !== null).toBe(bucketOf('salt', id) < 5000);
  });
});

describe(armAmong.name, () => {
  it("is the arm serving gives a device inside the exposure, by the arm salt's weights", () => {
    const r = release({ exposure: { default: BPS_SCALE } });
    const weighted = experiment([arm('a', null, { weight: 3 }), arm('b', '2.0.0'), arm('c', '3.0.0', { weight: 2 })]);
    for (const id of ids(2000)) {
      expect(armAmong(weighted, id)).toBe(armOf(r, weighted, id, 'default'));
      expect(armAmong(weighted, id)).toBe(weighted.arms[armIndexOf('arm-salt', id, [3, 1, 2])!]);
    }
    expect(armAmong(weighted, '  ')).toBeNull();
  });
});

describe('decide in a running experiment', () => {
  const r = release();

  it("answers a treatment arm's device with its arm's bundle and install mode", () => {
    expect(decide(serve(r), ctx(deviceOfArm(r, 'b')))).toMatchObject({
      action: 'update',
      bundle: { version: '2.0.0' },
      cohort: 'canary',
      experimentArm: { key: 'b', installMode: 'next_launch' },
    });
    expect(decide(serve(r), ctx(deviceOfArm(r, 'c')))).toMatchObject({ action: 'update', bundle: { version: '3.0.0' }, experimentArm: { key: 'c', installMode: 'immediate' } });
    expect(decide(serve(r), ctx(deviceOfArm(r, 'c'), { bundleVersion: '3.0.0' }))).toMatchObject({ action: 'none' });
  });

  it('keeps the control arm and outside devices on the baseline', () => {
    expect(decide(serve(r), ctx(deviceOfArm(r, 'a')))).toMatchObject({ action: 'none', cohort: 'control', experimentArm: { key: 'a' } });
    const outside = decide(serve(r), ctx(deviceOutside(r)));
    expect(outside).toMatchObject({ action: 'none', cohort: 'none' });
    expect(outside.experimentArm).toBeUndefined();
    expect(decide(serve(r), ctx(deviceOutside(r), { bundleVersion: 'builtin' }))).toMatchObject({ action: 'update', bundle: { version: '1.0.0' } });
  });

  it("sends a stopped arm's devices back to the baseline while the other arms go on", () => {
    const stopped = release({ experiment: experiment([arm('a', null), arm('b', '2.0.0'), arm('c', '3.0.0', { stopped: true })]) });
    expect(decide(serve(stopped), ctx(deviceOfArm(stopped, 'c'), { bundleVersion: '3.0.0' }))).toMatchObject({ action: 'rollback', bundle: { version: '1.0.0' } });
    expect(decide(serve(stopped), ctx(deviceOutside(stopped), { bundleVersion: '3.0.0' }))).toMatchObject({ action: 'rollback', bundle: { version: '1.0.0' } });
    expect(decide(serve(stopped), ctx(deviceOfArm(stopped, 'b')))).toMatchObject({ action: 'update', bundle: { version: '2.0.0' } });
  });

  it("serves a completed experiment's promoted bundle to everyone, and sends every arm back when it is withdrawn", () => {
    const promoted = release({ status: 'completed', target: bundleRef('3.0.0') });
    expect(decide(serve(promoted), ctx(deviceOutside(promoted)))).toMatchObject({ action: 'update', bundle: { version: '3.0.0' } });
    const aborted = release({ status: 'aborted' });
    expect(decide(serve(aborted), ctx(deviceOfArm(r, 'c'), { bundleVersion: '3.0.0' }))).toMatchObject({ action: 'rollback', bundle: { version: '1.0.0' } });
  });
});

describe('attribution in a running experiment', () => {
  const r = release();

  it("files a device's events under its arm, on its arm's bundle or not", () => {
    const b = deviceOfArm(r, 'b');
    expect(attributeEvent(serve(r), b, 'default', '2.0.0')).toMatchObject({ slice: 'arm:b', onCohortBundle: true, cohort: 'canary', arm: 'b' });
    expect(attributeEvent(serve(r), b, 'default', '1.0.0')).toMatchObject({ slice: 'arm:b', onCohortBundle: false, cohort: 'none', arm: 'b' });
    expect(attributeEvent(serve(r), deviceOfArm(r, 'a'), 'default', '1.0.0')).toMatchObject({ slice: 'arm:a', onCohortBundle: true, cohort: 'control' });
    expect(attributeEvent(serve(r), deviceOutside(r), 'default', '1.0.0')).toMatchObject({ slice: null, arm: null, releaseId: 'x1' });
  });
});
