import { Router } from 'express';
import type { PublishedSigningKey } from '../../db/stores/signing-key-store';
import { authorize } from '../http/auth';
import type { SigningKeyService } from '../services/signing-key-service';

function keysResponse(appId: string, keys: PublishedSigningKey[]) {
  return {
    appId,
    algorithm: 'ed25519',
    header: 'x-rampart-signature: ed25519;keyid=<id>;sig=<base64url signature of the exact body bytes>',
    keys: keys.map((k) => ({
      id: k.id,
      status: k.retiredAt === null ? 'active' : 'previous',
      publicKey: k.publicKey,
      createdAt: k.createdAt,
      publishedUntil: k.publishedUntil,
    })),
  };
}

/** Public half: anyone may fetch the keys answers are signed with; devices pin or fetch them. */
export function createPublicSigningKeyRoutes(deps: { signingKeys: SigningKeyService }): Router {
  const router = Router();
  router.get('/v1/apps/:appId/signing-key', async (req, res) => {
    res.json(keysResponse(req.params.appId, await deps.signingKeys.published(req.params.appId)));
  });
  return router;
}

export function createSigningKeyAdminRoutes(deps: { signingKeys: SigningKeyService }): Router {
  const router = Router();
  router.post('/v1/apps/:appId/signing-key/rotate', async (req, res) => {
    // Admins only: a rotation changes what every device must trust.
    const principal = authorize(res, 'manage_apps', req.params.appId);
    res.json(keysResponse(req.params.appId, await deps.signingKeys.rotate(req.params.appId, principal)));
  });
  return router;
}
