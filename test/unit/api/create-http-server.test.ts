import { IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../../api/http/create-http-server';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(app: Express): Promise<string> {
  server = createHttpServer(app);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function appReportingPrototypes(): Express {
  const app = express();
  app.use(express.json());
  app.post('/echo', (req, res) => {
    res.json({
      body: req.body as unknown,
      ip: req.ip,
      header: req.get('x-probe'),
      bornWithAppPrototype: Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response,
      madeByNodeDefaults: req.constructor === IncomingMessage || res.constructor === ServerResponse,
    });
  });
  return app;
}

describe('createHttpServer', () => {
  it('serves an Express app with requests and responses born with its prototypes', async () => {
    const base = await serve(appReportingPrototypes());
    const res = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-probe': 'yes' }, body: '{"a":1}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ body: { a: 1 }, ip: '127.0.0.1', header: 'yes', bornWithAppPrototype: true, madeByNodeDefaults: false });
  });

  it('keeps what is put on app.request and app.response, before and after the server is made', async () => {
    const app = express();
    (app.request as unknown as { before: string }).before = 'request before';
    (app.response as unknown as { before: string }).before = 'response before';
    const base = await serve(app);
    (app.request as unknown as { after: string }).after = 'request after';
    app.get('/', (req, res) => {
      const r = req as unknown as { before: string; after: string };
      res.json([r.before, r.after, (res as unknown as { before: string }).before]);
    });
    expect(await (await fetch(base)).json()).toEqual(['request before', 'request after', 'response before']);
  });

  it('answers errors and unknown routes as Express does', async () => {
    const app = express();
    app.get('/boom', () => {
      throw new Error('boom');
    });
    const base = await serve(app);
    expect((await fetch(`${base}/boom`)).status).toBe(500);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
  });
});
