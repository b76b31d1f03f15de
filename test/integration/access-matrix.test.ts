import type { Express } from 'express';
import { describe, expect, it } from 'vitest';
import { hasPermission, ROLES, type Principal, type Role } from '../../domain/access';
import { until } from '../../scripts/support/until';
import { bundleBody, createAppWithBundles } from '../support/fixtures';
import { createHttp, type Http, type JsonResponse } from '../support/http';
import { useTestStack } from '../support/test-stack';
import { ADMIN_ROUTES, PUBLIC_ROUTES, UNSCOPED_ADMIN_ONLY, type RouteRule } from './access-matrix-table';

interface Layer {
  name: string;
  slash?: boolean;
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

/** Every "METHOD /path" registered on the app, routers included (Express 5 keeps them in `app.router.stack`). */
function registeredRoutes(app: Express): string[] {
  const walk = (stack: Layer[]): string[] =>
    stack.flatMap((layer) => {
      if (layer.route) {
        const paths = ([] as string[]).concat(layer.route.path);
        return Object.keys(layer.route.methods).flatMap((m) => paths.map((p) => `${m.toUpperCase()} ${p}`));
      }
      if (layer.name !== 'router') return [];
      // A router mounted under a prefix would hide it from the paths below.
      if (!layer.slash) throw new Error('a router is mounted under a path prefix; teach registeredRoutes to carry it');
      return walk(layer.handle.stack ?? []);
    });
  return walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
}

const APP_A = 'com.example.matrix.a';
const APP_B = 'com.example.matrix.b';
const MISSING_APP = 'com.example.matrix.missing';
const MISSING_RELEASE = '01jmatrixmissingrelease0000';
const DEVICE = 'matrix-device';
const VERSION = '9.0.0';

interface Caller {
  label: string;
  principal: Pick<Principal, 'role' | 'appIds'>;
  http: Http;
}

/** The ids a request is aimed at: an app and a release of it (or ones that do not exist). */
interface Aim {
  appId: string;
  releaseId: string;
}

type Send = (http: Http, aim: Aim) => Promise<JsonResponse>;

describe('role × endpoint × app matrix', () => {
  const ctx = useTestStack();
  let counter = 0;
  const unique = (prefix: string) => `${prefix}-${++counter}`;

  /** Each prepared app's experiment, held on its own channel: the experiment routes aim at it. */
  const experimentOf = new Map<string, string>();
  const experimentAim = ({ appId, releaseId }: Aim) => experimentOf.get(appId) ?? releaseId;
  const experimentBody = (channel: string) => ({
    channel,
    arms: [{ key: 'a' }, { key: 'b', version: VERSION }],
    primaryMetric: 'session_duration',
    plan: { stages: [{ exposureBps: 500, minSoakMs: 600_000 }, { exposureBps: 10_000, minSoakMs: 600_000 }] },
    supersede: true,
  });

  const ok = async <T extends JsonResponse>(what: string, res: Promise<T>): Promise<T> => {
    const answer = await res;
    if (answer.status >= 400) throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer;
  };

  // Requests with valid bodies; fixtures a request consumes are made by the bootstrap admin first.
  const SENDERS: Record<string, Send> = {
    'GET /v1/apps': (http) => http.get('/v1/apps'),
    'GET /v1/apps/:appId': (http, { appId }) => http.get(`/v1/apps/${appId}`),
    'POST /v1/apps/:appId/bundles': (http, { appId }) => http.post(`/v1/apps/${appId}/bundles`, bundleBody(`1.0.${++counter}`)),
    'GET /v1/apps/:appId/bundles': (http, { appId }) => http.get(`/v1/apps/${appId}/bundles`),
    'POST /v1/apps/:appId/expo/bundles': (http, { appId }) =>
      http.post(`/v1/apps/${appId}/expo/bundles`, {
        version: `1.0.${++counter}`,
        runtimeVersion: '1.0.0',
        size: 100,
        platforms: { ios: { launchAsset: { hash: 'A'.repeat(43), key: 'launch', contentType: 'application/javascript', url: 'https://cdn.example.com/launch.hbc' } } },
      }),
    'GET /v1/apps/:appId/expo/bundles': (http, { appId }) => http.get(`/v1/apps/${appId}/expo/bundles`),
    'GET /v1/apps/:appId/expo/certificate': (http, { appId }) => http.get(`/v1/apps/${appId}/expo/certificate`),
    'GET /v1/apps/:appId/policy': (http, { appId }) => http.get(`/v1/apps/${appId}/policy`),
    'PUT /v1/apps/:appId/policy': (http, { appId }) => http.put(`/v1/apps/${appId}/policy`, { dry_run: ['admin', 'oncall'] }),
    'POST /v1/apps/:appId/releases': (http, { appId }) => http.post(`/v1/apps/${appId}/releases`, { version: VERSION, plan: 'default', supersede: true }),
    'GET /v1/apps/:appId/releases': (http, { appId }) => http.get(`/v1/apps/${appId}/releases`),
    'GET /v1/releases/:id': (http, { releaseId }) => http.get(`/v1/releases/${releaseId}`),
    'POST /v1/apps/:appId/webhooks': (http, { appId }) => http.post(`/v1/apps/${appId}/webhooks`, { url: 'https://hooks.example.com/matrix' }),
    'GET /v1/apps/:appId/webhooks': (http, { appId }) => http.get(`/v1/apps/${appId}/webhooks`),
    'DELETE /v1/apps/:appId/webhooks/:id': async (http, { appId }) => {
      const id = appId === MISSING_APP ? 'no-such-webhook' : (await ok('webhook', ctx.admin.post(`/v1/apps/${appId}/webhooks`, { url: 'https://hooks.example.com/x' }))).body.id;
      return http.delete(`/v1/apps/${appId}/webhooks/${id}`);
    },
    'POST /v1/apps/:appId/channels': (http, { appId }) => http.post(`/v1/apps/${appId}/channels`, { name: unique('ch') }),
    'GET /v1/apps/:appId/channels': (http, { appId }) => http.get(`/v1/apps/${appId}/channels`),
    'PATCH /v1/apps/:appId/channels/:name': (http, { appId }) => http.patch(`/v1/apps/${appId}/channels/quiet`, { allowSelfAssign: true }),
    'PUT /v1/apps/:appId/devices/:deviceId/channel': (http, { appId }) => http.put(`/v1/apps/${appId}/devices/${unique('dev')}/channel`, { channel: 'quiet' }),
    'DELETE /v1/apps/:appId/devices/:deviceId/channel': async (http, { appId }) => {
      const deviceId = unique('dev');
      if (appId !== MISSING_APP) await ok('override', ctx.admin.put(`/v1/apps/${appId}/devices/${deviceId}/channel`, { channel: 'quiet' }));
      return http.delete(`/v1/apps/${appId}/devices/${deviceId}/channel`);
    },
    'POST /v1/apps/:appId/segments': (http, { appId }) => http.post(`/v1/apps/${appId}/segments`, { key: unique('seg'), rule: { always: true } }),
    'GET /v1/apps/:appId/segments': (http, { appId }) => http.get(`/v1/apps/${appId}/segments`),
    'PUT /v1/apps/:appId/segments/:key': (http, { appId }) => http.put(`/v1/apps/${appId}/segments/fixed`, { maintenanceWindows: [] }),
    'DELETE /v1/apps/:appId/segments/:key': async (http, { appId }) => {
      const key = unique('seg');
      if (appId !== MISSING_APP) await ok('segment', ctx.admin.post(`/v1/apps/${appId}/segments`, { key, rule: { always: true }, force: true }));
      return http.delete(`/v1/apps/${appId}/segments/${key}`);
    },
    'GET /v1/apps/:appId/devices/:deviceId': (http, { appId }) => http.get(`/v1/apps/${appId}/devices/${DEVICE}`),
    'GET /v1/apps/:appId/adoption': (http, { appId }) => http.get(`/v1/apps/${appId}/adoption`),
    'GET /v1/releases/:id/insights': (http, { releaseId }) => http.get(`/v1/releases/${releaseId}/insights`),
    'GET /v1/releases/:id/notifications': (http, { releaseId }) => http.get(`/v1/releases/${releaseId}/notifications`),
    'GET /v1/audit': (http) => http.get('/v1/audit?limit=5'),
    'GET /v1/me': (http) => http.get('/v1/me'),
    'GET /v1/releases/:id/events': (http, { releaseId }) => http.stream(`/v1/releases/${releaseId}/events`),
    'POST /v1/apps/:appId/experiments': (http, { appId }) => http.post(`/v1/apps/${appId}/experiments`, experimentBody('lab2')),
    'GET /v1/releases/:id/experiment': (http, aim) => http.get(`/v1/releases/${experimentAim(aim)}/experiment`),
    'POST /v1/releases/:id/stop-arm': (http, aim) => http.post(`/v1/releases/${experimentAim(aim)}/stop-arm`, { arm: 'b', reason: 'access matrix' }),
    'POST /v1/releases/:id/promote-arm': (http, aim) => http.post(`/v1/releases/${experimentAim(aim)}/promote-arm`, { arm: 'b', reason: 'access matrix' }),
  };
  const sender = (route: string): Send => {
    const known = SENDERS[route];
    if (known) return known;
    const command = /^POST \/v1\/releases\/:id\/(.+)$/.exec(route);
    if (!command) throw new Error(`no request for ${route}`);
    return (http, { releaseId }) => http.post(`/v1/releases/${releaseId}/${command[1]}`, { reason: 'access matrix' });
  };

  /** Two apps alike: a bundle, a quiet channel with a held release on it, a segment and a device that checked in. */
  const prepareApp = async (appId: string): Promise<string> => {
    await createAppWithBundles(ctx.admin, appId, [VERSION]);
    await ok('channel', ctx.admin.post(`/v1/apps/${appId}/channels`, { name: 'quiet' }));
    await ok('segment', ctx.admin.post(`/v1/apps/${appId}/segments`, { key: 'fixed', rule: { attribute: 'attributes.fixed', op: 'is_true' } }));
    const held = { stages: [{ exposureBps: 500, minSoakMs: 600_000 }, { exposureBps: 10_000, minSoakMs: 600_000 }] };
    const release = await ok('release', ctx.admin.post(`/v1/apps/${appId}/releases`, { version: VERSION, channel: 'quiet', plan: held }));
    await ok('check', ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: DEVICE, platform: 'ios', nativeVersion: '1.0.0', bundleVersion: 'builtin' }));
    for (const channel of ['lab', 'lab2']) await ok('channel', ctx.admin.post(`/v1/apps/${appId}/channels`, { name: channel }));
    experimentOf.set(appId, (await ok('experiment', ctx.admin.post(`/v1/apps/${appId}/experiments`, experimentBody('lab')))).body.id as string);
    return release.body.id as string;
  };

  const callers = async (): Promise<Caller[]> => {
    const made: Caller[] = [];
    for (const role of ROLES) {
      for (const appIds of [null, [APP_A]]) {
        const key = await ok('key', ctx.admin.post('/v1/api-keys', { name: `matrix-${role}-${appIds ? 'a' : 'all'}`, role, appIds }));
        made.push({ label: `${role}${appIds ? '@A' : ''}`, principal: { role, appIds }, http: createHttp(ctx.stack.baseUrl, key.body.key as string) });
      }
    }
    return made;
  };

  it('lists every registered route in the expectation table', () => {
    const listed = new Set([...Object.keys(ADMIN_ROUTES), ...UNSCOPED_ADMIN_ONLY, ...PUBLIC_ROUTES]);
    const registered = registeredRoutes(ctx.stack.api.app);
    expect(registered.filter((r) => !listed.has(r))).toEqual([]);
    expect([...listed].filter((r) => !registered.includes(r))).toEqual([]);
  });

  it('allows exactly what each role may, hides other apps like missing ones, and names the role in denials', async () => {
    const releaseA = await prepareApp(APP_A);
    const releaseB = await prepareApp(APP_B);
    await until('both devices to be profiled', async () => {
      const { rows } = await ctx.stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE device_id = $1', [DEVICE]);
      return rows[0]!.n === 2 ? true : undefined;
    });
    const everyone = await callers();
    const aims = { A: { appId: APP_A, releaseId: releaseA }, B: { appId: APP_B, releaseId: releaseB }, missing: { appId: MISSING_APP, releaseId: MISSING_RELEASE } };

    const wrong: string[] = [];
    let successes = 0;
    for (const [route, rule] of Object.entries(ADMIN_ROUTES)) {
      const send = sender(route);
      for (const caller of everyone) {
        for (const target of ['A', 'B'] as const) {
          const res = await send(caller.http, aims[target]);
          const problem = await judge(rule, caller, target === 'A' || caller.principal.appIds === null, res, () => send(caller.http, aims.missing));
          if (problem) wrong.push(`${route} as ${caller.label} on ${target}: ${problem} (got ${res.status} ${JSON.stringify(res.body)?.slice(0, 200)})`);
          else if (res.status < 300) successes++;
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(successes).toBeGreaterThan(0);
  });

  it('lets only unscoped admins create apps and manage keys', async () => {
    const everyone = await callers();
    const unscopedOnly: Record<string, (http: Http) => Promise<JsonResponse>> = {
      'POST /v1/apps': (http) => http.post('/v1/apps', { id: `com.example.matrix.n${++counter}`, name: 'minted' }),
      'POST /v1/api-keys': (http) => http.post('/v1/api-keys', { name: `minted-${++counter}`, role: 'viewer', appIds: [APP_A] }),
      'GET /v1/api-keys': (http) => http.get('/v1/api-keys'),
      'POST /v1/apps/:appId/signing-key/rotate': (http) => http.post(`/v1/apps/${APP_A}/signing-key/rotate`, {}),
      'DELETE /v1/api-keys/:id': async (http) => {
        const victim = await ok('key', ctx.admin.post('/v1/api-keys', { name: `victim-${++counter}`, role: 'viewer' }));
        return http.delete(`/v1/api-keys/${victim.body.id as string}`);
      },
    };
    expect(Object.keys(unscopedOnly).sort()).toEqual([...UNSCOPED_ADMIN_ONLY].sort());
    const wrong: string[] = [];
    for (const [route, send] of Object.entries(unscopedOnly)) {
      for (const caller of everyone) {
        const res = await send(caller.http);
        const allowed = caller.principal.role === 'admin' && caller.principal.appIds === null;
        if (allowed ? res.status >= 300 : res.status !== 403) wrong.push(`${route} as ${caller.label}: got ${res.status} ${JSON.stringify(res.body)?.slice(0, 160)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lists only the apps in a key’s scope', async () => {
    const key = await ok('key', ctx.admin.post('/v1/api-keys', { name: 'matrix-list', role: 'viewer', appIds: [APP_A] }));
    const listed = await createHttp(ctx.stack.baseUrl, key.body.key as string).get('/v1/apps');
    expect(listed.body.apps.map((a: { id: string }) => a.id)).toEqual([APP_A]);
  });
});

const errorCode = (res: JsonResponse): unknown => (res.body as { error?: { code?: unknown } } | undefined)?.error?.code;

/** Out of scope must be indistinguishable from an app or release that does not exist. */
function outOfScopeProblem(res: JsonResponse, missing: JsonResponse): string | null {
  if (res.status < 400) return 'succeeded out of scope';
  if (res.status === missing.status && errorCode(res) === errorCode(missing)) return null;
  return `out of scope answered differently from a missing target (${missing.status} ${String(errorCode(missing))})`;
}

function deniedProblem(res: JsonResponse, role: Role, permission: string): string | null {
  if (res.status !== 403 || errorCode(res) !== 'forbidden') return `should be 403 forbidden for ${permission}`;
  return String(res.body.error.message).includes(`role "${role}"`) ? null : 'denial does not name the role';
}

/** What is wrong with an answer, or null when it is the one the table requires. */
async function judge(rule: RouteRule, caller: Caller, inScope: boolean, res: JsonResponse, sendMissing: () => Promise<JsonResponse>): Promise<string | null> {
  if (rule.target !== 'none' && !inScope) return outOfScopeProblem(res, await sendMissing());
  if (!hasPermission({ ...caller.principal, keyId: '', name: '' }, rule.permission)) return deniedProblem(res, caller.principal.role, rule.permission);
  // Allowed: done, or refused by the state of things (409) after the access check let it through.
  return res.status < 300 || res.status === 409 ? null : `should be allowed (${rule.permission})`;
}
