import { describe, expect, it } from 'vitest';
import { bundleRef, deviceContext, servingRelease as release } from '../../support/fixtures';
import { bucketOf } from '../../../domain/bucketing';
import { buildChannelServing, decide, type ServingRelease } from '../../../domain/serving';

function deviceAt(from: number, to: number): string {
  for (let i = 0; ; i++) {
    const b = bucketOf('salt', `dev-${i}`);
    if (b >= from && b < to) return `dev-${i}`;
  }
}

const ctx = deviceContext;

const serve = (...releases: ServingRelease[]) => buildChannelServing(releases).get('production');

describe(decide.name, () => {
  const canary = deviceAt(0, 5000);
  const control = deviceAt(5000, 10_000);

  it('offers the target inside the exposure and keeps the baseline outside', () => {
    expect(decide(serve(release()), ctx(canary))).toMatchObject({ action: 'update', bundle: { version: '2.0.0' }, cohort: 'canary' });
    expect(decide(serve(release()), ctx(control))).toEqual({ action: 'none', releaseId: 'r2', cohort: 'control', nativeUpdate: null });
    expect(decide(serve(release()), ctx(canary, { bundleVersion: '2.0.0' }))).toMatchObject({ action: 'none' });
  });

  it('moves devices on an older bundle to the baseline, and builtin devices to it as well', () => {
    expect(decide(serve(release()), ctx(control, { bundleVersion: 'builtin' }))).toMatchObject({ action: 'update', bundle: { version: '1.0.0' } });
  });

  it('uses the exposure of the device segment', () => {
    const r = release({ exposure: { default: 0, beta: 10_000 } });
    expect(decide(serve(r), ctx(canary, { segment: 'beta' })).action).toBe('update');
    expect(decide(serve(r), ctx(canary, { segment: 'default' })).action).toBe('none');
    expect(decide(serve(r), ctx(canary, { segment: 'enterprise' })).action).toBe('none');
  });

  it('tells devices on a rolled-back bundle to go back, to the binary when there is no baseline', () => {
    const rolledBack = release({ status: 'rolled_back', exposure: { default: 0 } });
    expect(decide(serve(rolledBack), ctx(canary, { bundleVersion: '2.0.0' }))).toMatchObject({ action: 'rollback', bundle: { version: '1.0.0' } });
    const noBaseline = release({ status: 'rolled_back', exposure: { default: 0 }, fallback: null });
    expect(decide(serve(noBaseline), ctx(canary, { bundleVersion: '2.0.0' }))).toMatchObject({ action: 'rollback', bundle: null });
    expect(decide(serve(noBaseline), ctx(canary, { bundleVersion: 'builtin' }))).toMatchObject({ action: 'none' });
  });

  it('keeps telling devices to leave a withdrawn bundle after a newer release started', () => {
    const bad = release({ releaseId: 'r2', status: 'rolled_back', createdAt: 2 });
    const next = release({ releaseId: 'r3', createdAt: 3, target: bundleRef('2.0.1'), exposure: { default: 0 } });
    expect(decide(serve(bad, next), ctx(control, { bundleVersion: '2.0.0' }))).toMatchObject({
      action: 'rollback',
      bundle: { version: '1.0.0' },
      releaseId: 'r3',
    });
  });

  it('serves the target to every device once completed', () => {
    expect(decide(serve(release({ status: 'completed' })), ctx(control))).toMatchObject({ action: 'update', bundle: { version: '2.0.0' } });
  });

  it('never offers a bundle outside its platforms or native range', () => {
    const r = release({ target: bundleRef('2.0.0', { nativeRange: '>=6.0.0' }), status: 'completed' });
    expect(decide(serve(r), ctx(canary, { bundleVersion: 'builtin' }))).toMatchObject({ action: 'update', bundle: { version: '1.0.0' } });
    expect(decide(serve(r), ctx(canary, { nativeVersion: '6.1' }))).toMatchObject({ bundle: { version: '2.0.0' } });
    const androidOnly = release({ target: bundleRef('2.0.0', { platforms: ['android'] }), fallback: null, status: 'completed' });
    expect(decide(serve(androidOnly), ctx(canary, { bundleVersion: 'builtin' }))).toMatchObject({ action: 'none' });
  });

  it('keeps devices on the target of a release in flight even when their exposure dropped', () => {
    const r = release({ exposure: { default: 5000, enterprise: 0 } });
    expect(decide(serve(r), ctx(canary, { segment: 'enterprise', bundleVersion: '2.0.0' }))).toMatchObject({ action: 'none' });
    expect(decide(serve(r), ctx(canary, { segment: 'enterprise', bundleVersion: '1.0.0' }))).toMatchObject({ action: 'none' });
  });

  it('tells a device in the audience whose native app is too old that only a store update helps', () => {
    const r = release({ target: bundleRef('2.0.0', { nativeRange: '>=6.0.0' }) });
    expect(decide(serve(r), ctx(canary, { nativeVersion: '5.2.0' }))).toMatchObject({ action: 'none', nativeUpdate: { version: '2.0.0', nativeRange: '>=6.0.0' } });
    expect(decide(serve(r), ctx(control, { nativeVersion: '5.2.0' }))).toMatchObject({ nativeUpdate: null });
    expect(decide(serve(r), ctx(canary, { nativeVersion: '6.0.1' }))).toMatchObject({ action: 'update', nativeUpdate: null });
  });

  it('matches on the native range alone when the protocol names no platform', () => {
    const r = release({ status: 'completed', target: bundleRef('2.0.0', { platforms: ['android'] }) });
    expect(decide(serve(r), ctx(canary, { platform: null, bundleVersion: 'builtin' }))).toMatchObject({ action: 'update', bundle: { version: '2.0.0' } });
  });

  it('answers none for a channel without releases', () => {
    expect(decide(undefined, ctx(canary))).toEqual({ action: 'none', releaseId: null, cohort: 'none', nativeUpdate: null });
  });
});
