import { describe, expect, it } from 'vitest';
import { bundleBody, createAppWithBundles } from '../support/fixtures';
import type { JsonResponse } from '../support/http';
import { useTestStack, type StackContext } from '../support/test-stack';

const APP = 'com.example.refusals';

/** A request as a client might get it wrong: a JSON body, a raw body with its own content-type, or none. */
interface Sent {
  as: 'admin' | 'device';
  path: string;
  json?: unknown;
  raw?: { body: string; contentType: string | null };
}

interface Refusal {
  status: number;
  code: string;
  /** The problem to look for in details.problems; without one, the message of the error itself. */
  path?: string;
  fragment: string;
}

const release = (body: Record<string, unknown>): Sent => ({ as: 'admin', path: `/v1/apps/${APP}/releases`, json: { version: '1.0.0', ...body } });
const plan = (stage: Record<string, unknown>) => ({ stages: [{ exposureBps: 10_000, minSoakMs: 0, gates: [], ...stage }] });
const device = { deviceId: 'dev-1', platform: 'ios', nativeVersion: '3.1.0' };
const check = (body: Record<string, unknown>): Sent => ({ as: 'device', path: `/v1/apps/${APP}/check`, json: { ...device, bundleVersion: 'builtin', ...body } });
const events = (body: Record<string, unknown>): Sent => ({
  as: 'device',
  path: `/v1/apps/${APP}/events`,
  json: { ...device, events: [{ type: 'session_start', at: new Date().toISOString(), bundleVersion: 'builtin' }], ...body },
});
const invalid = (path: string, fragment: string): Refusal => ({ status: 400, code: 'validation_failed', path, fragment });

const ROWS: Array<[string, Sent, Refusal]> = [
  ['no body at all', { as: 'admin', path: '/v1/apps' }, { status: 400, code: 'validation_failed', fragment: 'the request has no JSON body; send {id, name, allowHttpBundles?, defaultTimeZone?} with content-type: application/json' }],
  [
    'a JSON body sent as text/plain',
    { as: 'admin', path: `/v1/apps/${APP}/releases`, raw: { body: '{"version":"1.0.0"}', contentType: 'text/plain' } },
    { status: 415, code: 'unsupported_media_type', fragment: 'send the body as JSON with content-type: application/json (got content-type: text/plain)' },
  ],
  [
    'a body without content-type',
    { as: 'admin', path: `/v1/apps/${APP}/bundles`, raw: { body: JSON.stringify(bundleBody('9.0.0')), contentType: null } },
    { status: 415, code: 'unsupported_media_type', fragment: 'the request has no content-type' },
  ],
  ['an app id that is no reverse-DNS id', { as: 'admin', path: '/v1/apps', json: { id: 'My App', name: 'x' } }, invalid('id', 'use a reverse-DNS id such as com.example.app (got "My App")')],
  ['an unknown preset', release({ plan: 'fast' }), invalid('plan', 'use one of default, apple-phased or a plan object {stages: [...]} (got "fast")')],
  ['a plan that is an array', release({ plan: [plan({}).stages[0]] }), invalid('plan', 'must be a preset name (default, apple-phased) or a plan object {stages: [...]} (got [')],
  ['exposure instead of exposureBps: the missing field', release({ plan: { stages: [{ exposure: 10_000, minSoakMs: 0 }] } }), invalid('plan.stages[0].exposureBps', 'required')],
  ['exposure instead of exposureBps: the unknown one', release({ plan: { stages: [{ exposure: 10_000, minSoakMs: 0 }] } }), invalid('plan.stages[0].exposure', 'unknown field "exposure" (did you mean "exposureBps"?)')],
  ['a fractional exposure', release({ plan: plan({ exposureBps: 1.5 }) }), invalid('plan.stages[0].exposureBps', 'must be an integer (got 1.5)')],
  ['a soak time as text', release({ plan: plan({ minSoakMs: 'fast' }) }), invalid('plan.stages[0].minSoakMs', 'must be a number (got "fast")')],
  ['an unknown gate kind', release({ plan: plan({ gates: [{ kind: 'bayes' }] }) }), invalid('plan.stages[0].gates[0].kind', 'must be one of ratio, tripwire, crashRate, threshold (got "bayes")')],
  [
    'a maximum soak below the minimum after timeScale',
    release({ plan: plan({ minSoakMs: 2000, maxSoakMs: 1000 }), timeScale: 0.001 }),
    invalid('stages[0].maxSoakMs', 'after timeScale (sent 1000 × timeScale 0.001 = 1 ms); with timeScale 0.001, send at least 2000'),
  ],
  [
    'a check interval below 100 ms after timeScale',
    release({ plan: plan({ minSoakMs: 600_000, checkIntervalMs: 50_000 }), timeScale: 0.001 }),
    invalid('stages[0].checkIntervalMs', 'must be between 100 and 86400000 ms after timeScale (sent 50000 × timeScale 0.001 = 50 ms); with timeScale 0.001, send at least 100000'),
  ],
  ['a timeScale of 0', release({ timeScale: 0 }), invalid('timeScale', 'must be at least 0.00001 (got 0)')],
  ['supersede as text', release({ supersede: 'yes' }), invalid('supersede', 'must be a boolean (got "yes")')],
  ['a version that is no semantic version', release({ version: '1.0' }), invalid('version', 'must be a semantic version such as 1.4.2 (got "1.0")')],
  ['a short sha256', { as: 'admin', path: `/v1/apps/${APP}/bundles`, json: bundleBody('9.0.0', { sha256: 'abc' }) }, invalid('sha256', 'must be 64 hex characters (got "abc")')],
  ['an unknown platform', { as: 'admin', path: `/v1/apps/${APP}/bundles`, json: bundleBody('9.0.0', { platforms: ['ios', 'symbian'] }) }, invalid('platforms[1]', 'must be one of ios, android, web, electron (got "symbian")')],
  [
    'overlong notes',
    { as: 'admin', path: `/v1/apps/${APP}/bundles`, json: bundleBody('9.0.0', { notes: 'n'.repeat(5000) }) },
    invalid('notes', 'must be at most 4000 characters long (got "nnn'),
  ],
  ['a misspelt channel field', { as: 'admin', path: `/v1/apps/${APP}/channels`, json: { name: 'qa', plaforms: ['ios'] } }, invalid('plaforms', 'unknown field "plaforms" (did you mean "platforms"?)')],
  ['a command without a reason', { as: 'admin', path: '/v1/releases/no-such-release/pause', json: {} }, invalid('reason', 'required')],
  ['a native version that reads as none (check)', check({ nativeVersion: 'three' }), invalid('nativeVersion', 'must be a version such as 3.1.0 or 3.1 (got "three")')],
  ['a native version that reads as none (events)', events({ nativeVersion: 'three' }), invalid('nativeVersion', 'must be a version such as 3.1.0 or 3.1 (got "three")')],
  ['a check without a device id', check({ deviceId: undefined }), invalid('deviceId', 'required')],
  ['an unknown event type', events({ events: [{ type: 'explode', at: new Date().toISOString(), bundleVersion: 'builtin' }] }), invalid('events[0].type', '(got "explode")')],
];

async function send(ctx: StackContext, sent: Sent): Promise<JsonResponse> {
  const http = sent.as === 'admin' ? ctx.admin : ctx.device;
  if (!sent.raw) return http.post(sent.path, sent.json);
  const headers: Record<string, string> = { authorization: `Bearer ${ctx.stack.adminKey}` };
  if (sent.raw.contentType !== null) headers['content-type'] = sent.raw.contentType;
  // Bytes, so that fetch adds no content-type of its own.
  const res = await fetch(`${ctx.stack.baseUrl}${sent.path}`, { method: 'POST', headers, body: new TextEncoder().encode(sent.raw.body) });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

describe('refusal messages', () => {
  const ctx = useTestStack();

  it('name the field, the value sent and the accepted shape', async () => {
    await createAppWithBundles(ctx.admin, APP, ['1.0.0']);
    for (const [name, sent, expected] of ROWS) {
      const res = await send(ctx, sent);
      expect(res.status, name).toBe(expected.status);
      expect(res.body.error.code, name).toBe(expected.code);
      if (expected.path === undefined) {
        expect(res.body.error.message, name).toContain(expected.fragment);
        continue;
      }
      const problems = res.body.error.details.problems as Array<{ path: string; message: string }>;
      expect(problems.filter((p) => p.path === expected.path).map((p) => p.message), `${name}: ${JSON.stringify(problems)}`).toContainEqual(
        expect.stringContaining(expected.fragment),
      );
      expect(res.body.error.message, name).toContain(`${expected.path}: `);
    }
  });

  it('says when a bundle serves the default platforms because none were sent', async () => {
    const app = 'com.example.refusals.platforms';
    await createAppWithBundles(ctx.admin, app, []);
    const defaulted = await ctx.admin.post(`/v1/apps/${app}/bundles`, bundleBody('1.0.0'));
    expect(defaulted.status).toBe(201);
    expect(defaulted.body).toMatchObject({
      platforms: ['ios', 'android'],
      warnings: ['platforms not given: the bundle serves ios and android; send platforms to choose'],
    });
    const chosen = await ctx.admin.post(`/v1/apps/${app}/bundles`, bundleBody('1.0.1', { platforms: ['android'] }));
    expect(chosen.status).toBe(201);
    expect(chosen.body.warnings).toBeUndefined();
  });

  it('keeps accepting the native versions stores report', async () => {
    for (const nativeVersion of ['3.1', '3.1.0', '3.2 (417)']) {
      const res = await send(ctx, check({ nativeVersion }));
      expect(res.status, nativeVersion).toBe(200);
    }
  });
});
