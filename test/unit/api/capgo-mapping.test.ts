import { describe, expect, it } from 'vitest';
import { channelNumericId, updateAnswer } from '../../../api/device/capgo/capgo-answers';
import { identityOf, storesChannelOnServer } from '../../../api/device/capgo/capgo-identity';
import { parsePluginInput, statsEventSchema, updateRequestSchema } from '../../../api/device/capgo/capgo-schemas';
import { eventTypeOf, toIncomingEvent } from '../../../api/device/capgo/capgo-stats';
import type { CheckResult } from '../../../api/device/device-service';
import type { BundleRef } from '../../../domain/bundle';
import type { Decision } from '../../../domain/serving';

const bundle = (version: string, extra: Partial<BundleRef> = {}): BundleRef => ({
  version,
  url: `https://cdn.example.com/${version}.zip`,
  sha256: 'a'.repeat(64),
  size: 10,
  platforms: ['android', 'ios'],
  nativeRange: '*',
  sessionKey: null,
  encryptedChecksum: null,
  signature: null,
  ...extra,
});

const base = { releaseId: 'r1', cohort: 'canary' as const, nativeUpdate: null };

function result(decision: Decision, channel: string | null = 'production', target = '2.0.0'): CheckResult {
  const serving = new Map([[channel ?? '', { current: { target: bundle(target) }, withdrawnVersions: new Set<string>() }]]);
  return { app: { serving } as any, channel, segment: 'default', decision };
}

const device = { version_build: '3.0.0', plugin_version: '8.51.23' };

describe('Capgo update answers', () => {
  it('sends the success shape without error or kind for an update and a rollback to a bundle', () => {
    const update = updateAnswer(result({ action: 'update', bundle: bundle('1.4.2', { sessionKey: 'iv:key' }), ...base }), device);
    expect(update).toEqual({ version: '1.4.2', url: 'https://cdn.example.com/1.4.2.zip', checksum: 'a'.repeat(64), session_key: 'iv:key' });
    const back = updateAnswer(result({ action: 'rollback', bundle: bundle('1.4.1'), ...base }), device);
    expect(back).toEqual({ version: '1.4.1', url: 'https://cdn.example.com/1.4.1.zip', checksum: 'a'.repeat(64), session_key: '' });
  });

  it('sends exactly {version: "builtin"} to go back to the binary, except to plugins that cannot', () => {
    expect(updateAnswer(result({ action: 'rollback', bundle: null, ...base }), device)).toEqual({ version: 'builtin' });
    expect(updateAnswer(result({ action: 'rollback', bundle: null, ...base }), { ...device, plugin_version: '6.1.9' })).toMatchObject({
      error: 'revert_to_builtin_plugin_version_too_old',
      kind: 'failed',
    });
  });

  it('answers up_to_date, no_channel and the store-update block with a kind', () => {
    expect(updateAnswer(result({ action: 'none', ...base }), device)).toEqual({ error: 'no_new_version_available', message: 'No new version available', kind: 'up_to_date' });
    expect(updateAnswer(result({ action: 'none', ...base, releaseId: null, cohort: 'none' }, null), device)).toMatchObject({ error: 'no_channel', kind: 'failed' });
    expect(updateAnswer(result({ action: 'none', ...base, nativeUpdate: { version: '2.0.0', nativeRange: '>=5.0.0' } }), device)).toEqual({
      error: 'disable_auto_update_to_major',
      message: 'store_update_required',
      major: true,
      version: '2.0.0',
      old: '3.0.0',
      nativeRange: '>=5.0.0',
      kind: 'blocked',
    });
    // An update the binary can take goes first; the store update is announced on the next check.
    expect(updateAnswer(result({ action: 'update', bundle: bundle('1.0.0'), ...base, nativeUpdate: { version: '2.0.0', nativeRange: '>=5.0.0' } }), device)).toMatchObject({ version: '1.0.0' });
    expect(updateAnswer(result({ action: 'none', ...base }), { ...device, plugin_version: '4.13.0' })).toMatchObject({ error: 'unsupported_plugin_version', kind: 'failed' });
  });
});

describe('Capgo stats actions', () => {
  const stat = (action: string, extra: Record<string, unknown> = {}) => ({ action, plugin_version: '8.51.23', old_version_name: '', ...extra });

  it('maps every action of the reference to a Rampart event type', () => {
    const expected: Record<string, string> = {
      update_fail: 'boot_failed',
      download_fail: 'install_failed',
      download_manifest_file_fail: 'install_failed',
      download_manifest_checksum_fail: 'install_failed',
      download_manifest_brotli_fail: 'install_failed',
      manifest_path_fail: 'install_failed',
      finish_download_fail: 'install_failed',
      checksum_fail: 'install_failed',
      checksum_required: 'install_failed',
      session_key_required: 'install_failed',
      decrypt_fail: 'install_failed',
      unzip_fail: 'install_failed',
      set_fail: 'install_failed',
      windows_path_fail: 'install_failed',
      canonical_path_fail: 'install_failed',
      directory_path_fail: 'install_failed',
      low_mem_fail: 'capgo:low_mem_fail',
      insufficient_disk_space: 'capgo:insufficient_disk_space',
      app_crash: 'crash',
      app_crash_native: 'crash',
      app_anr: 'crash',
      app_initialization_failure: 'crash',
      app_killed_excessive_resource_usage: 'crash',
      app_killed_low_memory: 'capgo:app_killed_low_memory',
      app_memory_warning: 'capgo:app_memory_warning',
      webview_javascript_error: 'js_error',
      webview_unhandled_rejection: 'js_error',
      webview_render_process_gone: 'js_error',
      webview_content_process_terminated: 'js_error',
      webview_unclean_restart: 'js_error',
      webview_resource_error: 'capgo:webview_resource_error',
      webview_page_loaded: 'capgo:webview_page_loaded',
      app_launch_start: 'session_start',
      app_moved_to_foreground: 'session_start',
      app_moved_to_background: 'session_end',
      app_launch_ready: 'capgo:app_launch_ready',
      app_launch_timeout: 'capgo:app_launch_timeout',
      reset: 'capgo:reset',
      download_50: 'capgo:download_50',
      rate_limit_reached: 'capgo:rate_limit_reached',
      some_future_action: 'capgo:other',
      x1234567: 'capgo:other',
    };
    for (const [action, type] of Object.entries(expected)) expect(eventTypeOf(stat(action), '1.4.2'), action).toBe(type);
  });

  it('counts set only when the bundle changed, and download_fail only from plugins that mean it', () => {
    expect(eventTypeOf(stat('set', { old_version_name: '1.4.1' }), '1.4.2')).toBe('install_ok');
    expect(eventTypeOf(stat('set', { old_version_name: '1.4.2' }), '1.4.2')).toBe('capgo:set');
    expect(eventTypeOf(stat('download_fail', { plugin_version: '7.16.9' }), '1.4.2')).toBe('capgo:download_fail');
    expect(eventTypeOf(stat('download_fail', { plugin_version: '6.14.25' }), '1.4.2')).toBe('install_failed');
    expect(eventTypeOf(stat('download_fail', { plugin_version: undefined }), '1.4.2')).toBe('capgo:download_fail');
  });

  it('splits "<version>:<file>", keeps action and metadata, and keeps emulators and debug builds out of the gates', () => {
    const now = Date.now();
    const event = {
      app_id: 'com.example.app',
      device_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      platform: 'ios' as const,
      version_os: '17.5',
      version_name: '1.4.2:assets/app.js',
      is_emulator: true,
      is_prod: true,
      action: 'download_manifest_file_fail',
      plugin_version: '8.51.23',
      timestamp: now - 5000,
      metadata: { error: 'HTTP 404' },
    };
    expect(toIncomingEvent(event, now)).toEqual({
      type: 'install_failed',
      at: new Date(now - 5000),
      bundleVersion: '1.4.2',
      details: { action: 'download_manifest_file_fail', file: 'assets/app.js', metadata: { error: 'HTTP 404' } },
      countsForGates: false,
    });
    const skewed = toIncomingEvent({ ...event, is_emulator: false, timestamp: now + 10 * 86_400_000 }, now);
    expect(skewed).toMatchObject({ at: new Date(now), countsForGates: true, details: { deviceTimestamp: now + 10 * 86_400_000 } });
    // One label for every action Capgo does not know, however many a device invents; the action itself is kept.
    expect(toIncomingEvent({ ...event, action: 'made_up_42' }, now)).toMatchObject({ type: 'capgo:other', details: { action: 'made_up_42' } });
  });
});

describe('Capgo request parsing', () => {
  const info = {
    platform: 'android',
    device_id: '7239A82F-4EA8-4E33-9085-F4AD974D3FC4',
    app_id: 'com.example.app',
    version_build: '3.0.0',
    version_name: 'builtin',
    plugin_version: '8.51.23',
    is_emulator: false,
    is_prod: true,
    somethingNew: { nested: true },
  };

  it('lower-cases the device id, tolerates unknown fields and names the first problem as Capgo does', () => {
    const ok = parsePluginInput(updateRequestSchema, info);
    expect(ok).toMatchObject({ ok: true, value: { device_id: '7239a82f-4ea8-4e33-9085-f4ad974d3fc4' } });
    expect(ok.ok && 'somethingNew' in ok.value).toBe(false);
    const code = (input: unknown) => {
      const parsed = parsePluginInput(updateRequestSchema, input);
      return parsed.ok ? 'ok' : parsed.problem.error;
    };
    expect(code({})).toBe('invalid_json_body');
    expect(code([info])).toBe('invalid_json_body');
    expect(code({ ...info, device_id: '', app_id: '' })).toBe('missing_device_id');
    expect(code({ ...info, app_id: undefined })).toBe('missing_app_id');
    expect(code({ ...info, version_build: 'abc' })).toBe('semver_error');
    expect(code({ ...info, version_build: '1' })).toBe('ok');
    expect(code({ ...info, platform: 'web' })).toBe('invalid_json_body');
    expect(code({ ...info, plugin_version: '8.51' })).toBe('invalid_json_body');
    expect(parsePluginInput(statsEventSchema, { ...info, version_os: '13', action: 'set', metadata: { k: 1 } })).toMatchObject({
      ok: false,
      problem: { error: 'invalid_json_body', moreInfo: { issues: [{ path: 'metadata.k' }] } },
    });
  });

  it('exposes the InfoObject to segment rules as camelCase attributes', () => {
    const parsed = parsePluginInput(updateRequestSchema, { ...info, custom_id: 'user_42', install_source: 'google_play', version_os: '13', defaultChannel: '' });
    if (!parsed.ok) throw new Error(parsed.problem.message);
    expect(identityOf(parsed.value)).toMatchObject({
      appId: 'com.example.app',
      deviceId: '7239a82f-4ea8-4e33-9085-f4ad974d3fc4',
      platform: 'android',
      nativeVersion: '3.0.0',
      bundleVersion: 'builtin',
      requestedChannel: undefined,
      attributes: { isEmulator: false, isProd: true, customId: 'user_42', installSource: 'google_play', versionOs: '13', pluginVersion: '8.51.23' },
    });
  });

  it('knows which plugins expect the server to keep their channel', () => {
    const cases: Array<[string | undefined, boolean]> = [
      ['5.33.9', true],
      ['5.34.0', false],
      ['6.33.0', true],
      ['6.34.1', false],
      ['7.33.99', true],
      ['7.34.0', false],
      ['8.0.0', false],
      ['4.0.0', true],
      [undefined, true],
    ];
    for (const [version, legacy] of cases) expect(storesChannelOnServer(version), String(version)).toBe(legacy);
  });

  it('gives channels stable positive integer ids', () => {
    const id = channelNumericId('com.example.app', 'beta');
    expect(Number.isInteger(id) && id >= 0 && id <= 0x7fffffff).toBe(true);
    expect(channelNumericId('com.example.app', 'beta')).toBe(id);
    expect(channelNumericId('com.example.app', 'production')).not.toBe(id);
  });
});
