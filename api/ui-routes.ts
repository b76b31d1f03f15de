import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import express, { Router } from 'express';

/** Where `npm run build` puts the dashboard: dist/ui, whether this file runs from source or from dist. */
export function defaultUiDir(): string {
  const parent = dirname(__dirname);
  return join(basename(parent) === 'dist' ? parent : join(parent, 'dist'), 'ui');
}

// The page loads only its own scripts and styles and calls only this origin; nobody frames it.
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Rampart</title></head>
<body style="background:#111;color:#eee;font:16px system-ui;padding:2rem"><h1>The dashboard is not built</h1>
<p>Run <code>npm run build</code> (or <code>npm start</code>, which builds it when missing) and reload. The API itself works.</p></body></html>`;

/**
 * The dashboard (DESIGN §2): its page at `/` and under `/ui/...` (client-side routes), its hashed
 * assets under `/ui/assets/`. It calls the same admin API as everyone else.
 */
export function createUiRoutes(uiDir: string): Router {
  const router = Router();
  const index = join(uiDir, 'index.html');

  router.use('/ui/assets', express.static(join(uiDir, 'assets'), { immutable: true, maxAge: '1y', index: false, fallthrough: true }));

  router.get(['/', '/ui', '/ui/*path'], (req, res, next) => {
    if (req.path.startsWith('/ui/assets/')) return next();
    res.set(PAGE_HEADERS);
    if (!existsSync(index)) {
      res.status(503).type('html').send(NOT_BUILT);
      return;
    }
    res.sendFile(index);
  });

  return router;
}
