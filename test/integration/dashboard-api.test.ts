import express from 'express';
import { describe, expect, it } from 'vitest';
import { listRoutes } from '../../api/openapi/list-routes';
import { ROUTE_DOCS } from '../../api/openapi/route-docs';
import { waitFor } from '../../scripts/support/until';
import { createAppWithBundles, startRelease } from '../support/fixtures';
import { createHttp } from '../support/http';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

const longPlan = {
  stages: [
    { exposureBps: 1000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
    { exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
  ],
};

/** An open event stream: its events and comments as they arrive. */
async function openStream(url: string, key: string) {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
  const received: string[] = [];
  const reading = (async () => {
    if (!res.ok || !res.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) received.push(...decoder.decode(chunk as Uint8Array, { stream: true }).split('\n\n').filter(Boolean));
    } catch {
      // aborted by the test
    }
  })();
  return {
    res,
    received,
    close: async () => {
      controller.abort();
      await reading;
    },
    next: (match: RegExp) => waitFor(`an event matching ${match}`, () => Promise.resolve(received.find((e) => match.test(e))), (e) => e !== undefined, { timeoutMs: 20_000, everyMs: 20 }),
  };
}

describe('the API the dashboard uses', () => {
  const ctx = useTestStack({ releaseEvents: { maxClients: 2, heartbeatMs: 200 } });

  it('GET /v1/me tells a key its role, app scope and permissions', async () => {
    const me = await ctx.admin.get('/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ keyId: 'bootstrap-admin', role: 'admin', appIds: null });
    expect(me.body.permissions).toContain('command_releases');

    await createAppWithBundles(ctx.admin, 'com.example.me', ['1.0.0']);
    const created = await ctx.admin.post('/v1/api-keys', { name: 'wallboard', role: 'viewer', appIds: ['com.example.me'] });
    const viewer = await createHttp(ctx.stack.baseUrl, created.body.key).get('/v1/me');
    expect(viewer.body).toEqual({ keyId: created.body.id, name: 'wallboard', role: 'viewer', appIds: ['com.example.me'], permissions: ['read'] });

    const anonymous = await ctx.device.get('/v1/me');
    expect(anonymous.status).toBe(401);
  });

  it('streams release changes from the NOTIFY feed, bounds the streams, beats the heart and cleans up', async () => {
    const appId = 'com.example.live';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    const id = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: longPlan });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    const url = `${ctx.stack.baseUrl}/v1/releases/${id}/events`;
    const key = ctx.stack.adminKey;
    const gauge = async () => (await ctx.stack.api.deps.metrics.releaseEventClients.get()).values[0]?.value ?? 0;

    const first = await openStream(url, key);
    expect(first.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await first.next(/^event: hello/)).toContain(`"releaseId":"${id}"`);
    expect(await first.next(/^: keep-alive/)).toBeDefined();

    const paused = await ctx.admin.post(`/v1/releases/${id}/pause`, { reason: 'watching the stream' });
    expect(paused.status).toBe(200);
    expect(await first.next(/^event: change[\s\S]*"status":"paused"/)).toContain(`"releaseId":"${id}"`);

    const second = await openStream(url, key);
    await second.next(/^event: hello/);
    expect(await gauge()).toBe(2);
    const third = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    expect(third.status).toBe(503);
    expect(((await third.json()) as { error: { message: string } }).error.message).toMatch(/poll GET \/v1\/releases\//);

    await first.close();
    await waitFor('the closed stream to be let go', gauge, (n) => n === 1);
    await second.close();
    await waitFor('every stream to be let go', gauge, (n) => n === 0);

    const other = await ctx.device.get(`/v1/releases/${id}/events`);
    expect(other.status).toBe(401);
    expect((await ctx.admin.get('/v1/releases/no-such-release/events')).status).toBe(404);
  });

  it('GET /openapi.json describes every route the app has, with the error shape', async () => {
    const res = await ctx.device.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.components.schemas.Error.properties.error.required).toEqual(['code', 'message']);

    const routes = listRoutes(ctx.stack.api.app);
    expect(routes.length).toBeGreaterThan(40);
    const undescribed = routes.filter((r) => !ROUTE_DOCS[`${r.method} ${r.path}`]?.description).map((r) => `${r.method} ${r.path}`);
    expect(undescribed, 'routes without a description in api/openapi/route-docs.ts').toEqual([]);
    for (const { method, path } of routes) {
      const operation = res.body.paths[path]?.[method.toLowerCase()];
      expect(operation?.description, `${method} ${path}`).toBeTruthy();
    }
    const stale = Object.keys(ROUTE_DOCS).filter((doc) => !routes.some((r) => `${r.method} ${r.path}` === doc));
    expect(stale, 'descriptions of routes the app does not have').toEqual([]);

    const start = res.body.paths['/v1/apps/{appId}/releases'].post;
    expect(start.requestBody.content['application/json'].schema.properties.version.type).toBe('string');
    expect(start.responses['409'].content['application/json'].schema.$ref).toBe('#/components/schemas/Error');
    expect(res.body.paths['/v1/apps/{appId}/check'].post.requestBody.content['application/json'].schema.required).toContain('deviceId');
  });

  it('the route check sees a route added without a description', () => {
    const app = express();
    const router = express.Router();
    router.get('/v1/brand-new/:id', (_req, res) => void res.json({}));
    app.use(router);
    expect(listRoutes(app)).toEqual([{ method: 'GET', path: '/v1/brand-new/{id}' }]);
    expect(ROUTE_DOCS['GET /v1/brand-new/{id}']).toBeUndefined();
  });
});
