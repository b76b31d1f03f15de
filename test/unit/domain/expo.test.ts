import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { negotiateExpoResponse } from '../../../domain/expo-accept';
import { expoAnswerFor } from '../../../domain/expo-answer';
import { runtimeAsNativeRange, runtimeAsNativeVersion } from '../../../domain/expo-runtime';
import { isCompatible, needsNativeUpdate } from '../../../domain/native-compat';
import { bundleRef } from '../../support/fixtures';

describe('runtime versions as the native range', () => {
  const runtime = fc.stringMatching(/^[\x21-\x7e]{1,100}$/);

  it('a bundle for runtime A is compatible with a device of runtime B exactly when A = B', () => {
    fc.assert(
      fc.property(runtime, runtime, (a, b) => {
        const bundle = bundleRef('1.0.0', { nativeRange: runtimeAsNativeRange(a), platforms: ['ios'] });
        expect(isCompatible(bundle, 'ios', runtimeAsNativeVersion(b))).toBe(a === b);
      }),
    );
  });

  it('keeps plain semver readable and spells the rest so no look-alike matches', () => {
    expect(runtimeAsNativeVersion('1.0.0')).toBe('1.0.0');
    const bundle = bundleRef('1.0.0', { nativeRange: runtimeAsNativeRange('1.0.0'), platforms: ['ios'] });
    for (const other of ['1.0', 'v1.0.0', '01.0.0', 'exposdk:1.0.0', '1.0.0-beta']) expect(isCompatible(bundle, 'ios', runtimeAsNativeVersion(other)), other).toBe(false);
    // A fingerprint that semver would coerce to 1.0.0 does not pass for it.
    expect(isCompatible(bundle, 'ios', runtimeAsNativeVersion('1abc.0'))).toBe(false);
  });

  it('an Expo runtime never satisfies a range a store build is registered for, nor the other way round', () => {
    const storeBundle = bundleRef('1.0.0', { nativeRange: '>=1.0.0 <3', platforms: ['ios'] });
    expect(isCompatible(storeBundle, 'ios', runtimeAsNativeVersion('exposdk:50.0.0'))).toBe(false);
    const expoBundle = bundleRef('1.0.0', { nativeRange: runtimeAsNativeRange('a3f1c0ffee'), platforms: ['ios'] });
    expect(isCompatible(expoBundle, 'ios', '2.0.0')).toBe(false);
    expect(needsNativeUpdate(expoBundle, 'ios', runtimeAsNativeVersion('a3f1c0ffee'))).toBe(false);
  });
});

describe('accept negotiation (RFC 7231 §5.3.2)', () => {
  it.each([
    [undefined, 'multipart/mixed'],
    ['multipart/mixed,application/expo+json,application/json', 'multipart/mixed'],
    ['application/expo+json, application/json, multipart/mixed', 'multipart/mixed'],
    ['application/expo+json;q=0.9, application/json;q=0.8, multipart/mixed', 'multipart/mixed'],
    ['application/expo+json;q=0.9, application/json;q=0.8, multipart/mixed;q=0.1', 'application/expo+json'],
    ['application/json', 'application/json'],
    ['application/*', 'application/expo+json'],
    ['*/*;q=0.5, application/json', 'application/json'],
    ['*/*', 'multipart/mixed'],
    ['MULTIPART/MIXED', 'multipart/mixed'],
    ['text/html', null],
    ['multipart/mixed;q=0', null],
    ['application/json;q=abc', null],
  ])('%s → %s', (accept, expected) => {
    expect(negotiateExpoResponse(accept)).toBe(expected);
  });
});

describe('the Expo answer of a decision', () => {
  const base = { releaseId: 'r', cohort: 'canary' as const, nativeUpdate: null };
  it('an update is the bundle manifest, a rollback to a bundle its re-issue, a rollback to nothing rollBackToEmbedded', () => {
    expect(expoAnswerFor({ ...base, action: 'update', bundle: bundleRef('1.1.0') })).toEqual({ kind: 'manifest', version: '1.1.0', reissued: false });
    expect(expoAnswerFor({ ...base, action: 'rollback', bundle: bundleRef('1.0.0') })).toEqual({ kind: 'manifest', version: '1.0.0', reissued: true });
    expect(expoAnswerFor({ ...base, action: 'rollback', bundle: null })).toEqual({ kind: 'rollBackToEmbedded' });
    expect(expoAnswerFor({ ...base, action: 'none' })).toEqual({ kind: 'noUpdateAvailable' });
    // Expo has no store-update notion: a device whose binary is too old is simply up to date.
    expect(expoAnswerFor({ ...base, action: 'none', nativeUpdate: { version: '2.0.0', nativeRange: '>=2' } })).toEqual({ kind: 'noUpdateAvailable' });
  });
});
