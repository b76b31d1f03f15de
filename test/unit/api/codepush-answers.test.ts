import { describe, expect, it } from 'vitest';
import { snakeCaseUpdateInfo, updateInfoFor } from '../../../api/device/codepush/codepush-answers';
import type { BundleRef } from '../../../domain/bundle';
import type { Decision } from '../../../domain/serving';

const bundle = (version: string): BundleRef => ({
  version,
  url: `https://cdn/${version}.zip`,
  sha256: 'b'.repeat(64),
  size: 42,
  platforms: ['ios', 'android'],
  nativeRange: '^1.0.0',
  sessionKey: null,
  encryptedChecksum: null,
  signature: null,
});

const base = { releaseId: 'r1', cohort: 'canary' as const, nativeUpdate: null };

describe(updateInfoFor.name, () => {
  it('offers the bundle under its version as label, echoing the device version instead of the range', () => {
    const info = updateInfoFor({ ...base, action: 'update', bundle: bundle('1.1.0') }, '1.2');
    expect(snakeCaseUpdateInfo(info)).toEqual({
      download_url: 'https://cdn/1.1.0.zip',
      description: '',
      is_available: true,
      is_mandatory: false,
      app_version: '1.2',
      target_binary_range: '1.2',
      package_hash: 'b'.repeat(64),
      label: '1.1.0',
      package_size: 42,
      update_app_version: false,
      should_run_binary_version: false,
    });
  });

  it('makes a rollback to an earlier bundle mandatory, and sends a rollback to the binary back to it', () => {
    expect(updateInfoFor({ ...base, action: 'rollback', bundle: bundle('1.0.0') }, '1.0.0')).toMatchObject({ isAvailable: true, isMandatory: true, label: '1.0.0' });
    expect(updateInfoFor({ ...base, action: 'rollback', bundle: null }, '1.0.0')).toMatchObject({ isAvailable: false, shouldRunBinaryVersion: true, label: '' });
  });

  it('answers "up to date" in the exact shape of code-push-server', () => {
    expect(snakeCaseUpdateInfo(updateInfoFor({ ...base, action: 'none' }, '1.0.0'))).toEqual({
      is_available: false,
      should_run_binary_version: false,
      update_app_version: false,
      target_binary_range: '1.0.0',
      download_url: '',
      description: '',
      is_mandatory: false,
      app_version: '1.0.0',
      package_hash: '',
      label: '',
      package_size: 0,
    });
  });

  it('asks for a store update with the range only when there is nothing to install', () => {
    const none: Decision = { ...base, action: 'none', nativeUpdate: { version: '2.0.0', nativeRange: '>=2.0.0' } };
    expect(updateInfoFor(none, '1.0.0')).toMatchObject({ isAvailable: false, updateAppVersion: true, appVersion: '>=2.0.0', targetBinaryRange: '>=2.0.0' });
    const fallback: Decision = { ...base, action: 'update', bundle: bundle('1.0.0'), nativeUpdate: { version: '2.0.0', nativeRange: '>=2.0.0' } };
    expect(updateInfoFor(fallback, '1.0.0')).toMatchObject({ isAvailable: true, updateAppVersion: false, label: '1.0.0', appVersion: '1.0.0' });
  });
});
