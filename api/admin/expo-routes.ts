import { Router } from 'express';
import type { ExpoUpdate } from '../../domain/expo-manifest';
import { EXPO_SIGNING_ALGORITHM, type ExpoCodeSigning } from '../device/expo/expo-code-signing';
import { createExpoBundleSchema } from '../device/expo/expo-schemas';
import { authorize } from '../http/auth';
import { parse } from '../http/parse';
import type { BundleService } from '../services/bundle-service';
import { bundleResponse } from './apps-routes';

function expoUpdateResponse(u: ExpoUpdate) {
  return {
    version: u.version,
    platform: u.platform,
    updateId: u.updateId,
    runtimeVersion: u.runtimeVersion,
    launchAsset: u.launchAsset,
    assets: u.assets,
    metadata: u.metadata,
    extra: u.extra,
    assetRequestHeaders: u.assetRequestHeaders,
    createdAt: u.createdAt,
  };
}

/** Expo bundles (manifest and assets per platform) and the certificate Expo apps verify answers with. */
export function createExpoAdminRoutes(deps: { bundles: BundleService; expoSigning: ExpoCodeSigning }): Router {
  const router = Router();

  router.post('/v1/apps/:appId/expo/bundles', async (req, res) => {
    const principal = authorize(res, 'write_bundles', req.params.appId);
    const body = parse(createExpoBundleSchema, req.body);
    const { bundle, updates } = await deps.bundles.createExpo(req.params.appId, body, principal);
    res.status(201).json({ ...bundleResponse(bundle), runtimeVersion: body.runtimeVersion, updates: updates.map(expoUpdateResponse) });
  });

  router.get('/v1/apps/:appId/expo/bundles', async (req, res) => {
    const principal = authorize(res, 'read', req.params.appId);
    res.json({ updates: (await deps.bundles.listExpo(req.params.appId, principal)).map(expoUpdateResponse) });
  });

  // Whoever may register bundles may make the app's first key: until the certificate is embedded in
  // a build, the key changes nothing devices trust.
  router.get('/v1/apps/:appId/expo/certificate', async (req, res) => {
    const principal = authorize(res, 'write_bundles', req.params.appId);
    const certificate = await deps.expoSigning.certificate(req.params.appId, principal);
    res.json({
      ...certificate,
      // What goes into the app config next to the certificate file.
      codeSigningMetadata: { keyid: certificate.keyId, alg: EXPO_SIGNING_ALGORITHM },
    });
  });

  return router;
}
