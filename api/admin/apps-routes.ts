import { Router } from 'express';
import type { App } from '../../domain/app';
import type { Bundle } from '../../domain/bundle';
import { authorize } from '../http/auth';
import { parse } from '../http/parse';
import type { AppService } from '../services/app-service';
import type { BundleService } from '../services/bundle-service';
import { createAppSchema, createBundleSchema, DEFAULT_BUNDLE_PLATFORMS } from './schemas';

export function appResponse(app: App) {
  return { id: app.id, name: app.name, allowHttpBundles: app.allowHttpBundles, defaultTimeZone: app.defaultTimeZone, createdAt: app.createdAt };
}

export function bundleResponse(bundle: Bundle) {
  return {
    appId: bundle.appId,
    version: bundle.version,
    url: bundle.url,
    sha256: bundle.sha256,
    size: bundle.size,
    platforms: bundle.platforms,
    nativeRange: bundle.nativeRange,
    notes: bundle.notes,
    encrypted: bundle.sessionKey !== null,
    signed: bundle.signature !== null,
    createdAt: bundle.createdAt,
  };
}

// A default that decides who gets a bundle is said out loud, so nobody ships to a platform by accident.
function bundleWarnings(sent: Record<string, unknown>): { warnings?: string[] } {
  if (sent.platforms !== undefined) return {};
  return { warnings: [`platforms not given: the bundle serves ${DEFAULT_BUNDLE_PLATFORMS.join(' and ')}; send platforms to choose`] };
}

export function createAppsRoutes(deps: { apps: AppService; bundles: BundleService }): Router {
  const router = Router();

  router.post('/v1/apps', async (req, res) => {
    const principal = authorize(res, 'manage_apps');
    const body = parse(createAppSchema, req.body);
    res.status(201).json(appResponse(await deps.apps.create(body, principal)));
  });

  router.get('/v1/apps', async (_req, res) => {
    const principal = authorize(res, 'read');
    res.json({ apps: (await deps.apps.list(principal)).map(appResponse) });
  });

  router.get('/v1/apps/:appId', async (req, res) => {
    const principal = authorize(res, 'read', req.params.appId);
    res.json(appResponse(await deps.apps.get(req.params.appId, principal)));
  });

  router.post('/v1/apps/:appId/bundles', async (req, res) => {
    const principal = authorize(res, 'write_bundles', req.params.appId);
    const body = parse(createBundleSchema, req.body);
    const bundle = await deps.bundles.create(
      {
        appId: req.params.appId,
        version: body.version,
        url: body.url,
        sha256: body.sha256,
        size: body.size,
        platforms: body.platforms,
        nativeRange: body.nativeRange,
        sessionKey: body.sessionKey ?? null,
        encryptedChecksum: body.checksum ?? null,
        signature: body.signature ?? null,
        notes: body.notes ?? null,
      },
      principal,
    );
    res.status(201).json({ ...bundleResponse(bundle), ...bundleWarnings(req.body as Record<string, unknown>) });
  });

  router.get('/v1/apps/:appId/bundles', async (req, res) => {
    const principal = authorize(res, 'read', req.params.appId);
    res.json({ bundles: (await deps.bundles.list(req.params.appId, principal)).map(bundleResponse) });
  });

  return router;
}
