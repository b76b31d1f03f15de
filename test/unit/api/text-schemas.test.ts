import { describe, expect, it } from 'vitest';
import { createBundleSchema, createSegmentSchema, commandSchema } from '../../../api/admin/schemas';
import { parsePluginInput, statsEventSchema, updateRequestSchema } from '../../../api/device/capgo/capgo-schemas';
import { deployReportSchema } from '../../../api/device/codepush/codepush-schemas';
import { checkRequestSchema, eventsRequestSchema } from '../../../api/device/native-schemas';
import { parse } from '../../../api/http/parse';
import { ValidationError } from '../../../domain/errors/validation-error';

const problemsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return (err.toJSON() as { details: { problems: Array<{ path: string; message: string }> } }).details.problems;
    throw err;
  }
  throw new Error('accepted');
};

const check = { deviceId: 'd-1', platform: 'ios', nativeVersion: '3.1.0', bundleVersion: '1.0.0' };
const event = { type: 'crash', at: new Date().toISOString(), bundleVersion: '1.0.0' };
const capgo = {
  app_id: 'com.example.app',
  device_id: '3f0c1a2b-0000-4000-8000-000000000001',
  platform: 'ios',
  is_emulator: false,
  is_prod: true,
  version_build: '3.1.0',
  version_name: '1.0.0',
  plugin_version: '8.0.0',
};

describe('control characters in strings', () => {
  it.each([
    ['bundleVersion', { ...check, bundleVersion: '1.0.0\u0000' }],
    ['nativeVersion', { ...check, nativeVersion: '3.1.0\u0001' }],
    ['attributes.plan', { ...check, attributes: { plan: 'pro\u007f' } }],
  ])('refuses a check whose %s holds one, naming the field', (field, body) => {
    expect(problemsOf(() => parse(checkRequestSchema, body))).toEqual([expect.objectContaining({ path: field, message: expect.stringMatching(/control characters/) })]);
  });

  it('lets an event message span lines, but never carry U+0000', () => {
    const body = (message: string) => ({ deviceId: 'd-1', platform: 'ios', nativeVersion: '3.1.0', events: [{ ...event, message }] });
    expect(parse(eventsRequestSchema, body('TypeError\n\tat x.js:1')).events[0]).toMatchObject({ message: 'TypeError\n\tat x.js:1' });
    expect(problemsOf(() => parse(eventsRequestSchema, body('boom\u0000')))).toEqual([expect.objectContaining({ path: 'events[0].message' })]);
  });

  it('refuses them in CodePush reports and Capgo requests', () => {
    expect(problemsOf(() => parse(deployReportSchema, { deployment_key: 'k', app_version: '1.0.0', label: 'v1\u0000', status: 'DeploymentSucceeded' }))).toEqual([
      expect.objectContaining({ path: 'label' }),
    ]);
    const update = parsePluginInput(updateRequestSchema, { ...capgo, version_name: '1.0.0\u0000' });
    expect(update).toMatchObject({ ok: false, problem: { error: 'invalid_json_body', moreInfo: { issues: [{ path: 'version_name' }] } } });
    const stats = parsePluginInput(statsEventSchema, { ...capgo, version_os: '17', action: 'set', metadata: { stack: 'a\u0000' } });
    expect(stats).toMatchObject({ ok: false, problem: { moreInfo: { issues: [{ path: 'metadata.stack' }] } } });
  });

  it('refuses them in admin bodies, URLs and free-form rules included', () => {
    const bundle = { version: '1.0.0', url: 'https://cdn.example.com/a\u0000.zip', sha256: 'a'.repeat(64), size: 1 };
    expect(problemsOf(() => parse(createBundleSchema, bundle))).toEqual([expect.objectContaining({ path: 'url' })]);
    expect(problemsOf(() => parse(commandSchema, { reason: 'x\u0000' }))).toEqual([expect.objectContaining({ path: 'reason' })]);
    const rule = { all: [{ attribute: 'attributes.plan', op: 'eq', value: 'a\u0000' }] };
    expect(problemsOf(() => parse(createSegmentSchema, { key: 'k', rule }))).toEqual([expect.objectContaining({ path: 'rule' })]);
  });

  it('refuses free-form JSON nested deeper than anyone writes, without recursing', () => {
    let rule: unknown = { always: true };
    for (let i = 0; i < 100_000; i += 1) rule = { not: rule };
    expect(problemsOf(() => parse(createSegmentSchema, { key: 'k', rule }))).toEqual([expect.objectContaining({ path: 'rule', message: expect.stringMatching(/nested/) })]);
  });
});
