import { describe, expect, it } from 'vitest';
import { deployEvent, downloadEvent } from '../../../api/device/codepush/codepush-reports';
import { deployReportSchema, downloadReportSchema, updateCheckQuerySchema } from '../../../api/device/codepush/codepush-schemas';

const at = new Date('2025-01-01T00:00:00Z');

describe('CodePush request schemas', () => {
  it('reads both spellings of every parameter, snake_case first, and treats empty values as absent', () => {
    expect(updateCheckQuerySchema.parse({ deployment_key: 'dk_1', app_version: '1', label: '', client_unique_id: 'd-1', package_hash: 'x' })).toEqual({
      deploymentKey: 'dk_1',
      appVersion: '1',
      label: undefined,
      clientUniqueId: 'd-1',
    });
    expect(updateCheckQuerySchema.parse({ deploymentKey: 'dk_2', appVersion: '2.0', label: '2.0.0', clientUniqueId: 'd-2' })).toMatchObject({ deploymentKey: 'dk_2', label: '2.0.0' });
    expect(updateCheckQuerySchema.parse({ deployment_key: 'dk_snake', deploymentKey: 'dk_camel', app_version: '1.0.0' }).deploymentKey).toBe('dk_snake');
  });

  it.each([
    ['no deployment key', { app_version: '1.0.0' }],
    ['no app version', { deployment_key: 'dk' }],
    ['an app version that is no version', { deployment_key: 'dk', app_version: 'banana' }],
    ['a repeated parameter', { deployment_key: ['dk', 'dk2'], app_version: '1.0.0' }],
    ['an oversize label', { deployment_key: 'dk', app_version: '1.0.0', label: 'x'.repeat(101) }],
    ['a device id with spaces', { deployment_key: 'dk', app_version: '1.0.0', client_unique_id: 'a b' }],
  ])('refuses an update check with %s', (_what, query) => {
    expect(updateCheckQuerySchema.safeParse(query).success).toBe(false);
  });

  it('refuses a deploy report whose label comes without a valid status, or without key or app version', () => {
    const ok = { deployment_key: 'dk', app_version: '1.0.0', label: '1.1.0', status: 'DeploymentSucceeded' };
    expect(deployReportSchema.safeParse(ok).success).toBe(true);
    expect(deployReportSchema.safeParse({ ...ok, status: undefined }).error?.issues[0]).toMatchObject({ path: ['status'] });
    expect(deployReportSchema.safeParse({ ...ok, status: 'Installed' }).success).toBe(false);
    expect(deployReportSchema.safeParse({ ...ok, deployment_key: undefined }).success).toBe(false);
    expect(deployReportSchema.safeParse({ ...ok, app_version: undefined }).success).toBe(false);
    expect(downloadReportSchema.safeParse({ deployment_key: 'dk' }).success).toBe(false);
  });
});

describe(deployEvent.name, () => {
  it('maps the statuses to Rampart events on the label, keeping where the device came from', () => {
    const succeeded = deployReportSchema.parse({
      deployment_key: 'dk',
      app_version: '1.0.0',
      label: '1.1.0',
      status: 'DeploymentSucceeded',
      previous_label_or_app_version: '1.0.0',
      previous_deployment_key: 'dk_old',
    });
    expect(deployEvent(succeeded, at)).toEqual({
      type: 'install_ok',
      at,
      bundleVersion: '1.1.0',
      details: { previous_label_or_app_version: '1.0.0', previous_deployment_key: 'dk_old' },
    });
    const failed = deployReportSchema.parse({ deploymentKey: 'dk', appVersion: '1.0.0', label: '1.2.0', status: 'DeploymentFailed' });
    expect(deployEvent(failed, at)).toEqual({ type: 'boot_failed', at, bundleVersion: '1.2.0', details: null });
  });

  it('records a report without a label as a binary deploy, and a download as such', () => {
    const binary = deployReportSchema.parse({ deployment_key: 'dk', app_version: '1.1.0', previous_label_or_app_version: '1.0.0' });
    expect(deployEvent(binary, at)).toEqual({ type: 'codepush:binary_deploy', at, bundleVersion: 'builtin', details: { previous_label_or_app_version: '1.0.0' } });
    expect(downloadEvent(downloadReportSchema.parse({ deployment_key: 'dk', label: '1.1.0', client_unique_id: 'd' }), at)).toEqual({
      type: 'codepush:download',
      at,
      bundleVersion: '1.1.0',
      details: null,
      countsForGates: false,
    });
  });
});
