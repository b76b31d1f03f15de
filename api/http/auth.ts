import type { RequestHandler, Response } from 'express';
import { canAccessApp, permissionRefusal, type Permission, type Principal } from '../../domain/access';
import { ForbiddenError } from '../../domain/errors/forbidden-error';
import { NotFoundError } from '../../domain/errors/not-found-error';
import { UnauthorizedError } from '../../domain/errors/unauthorized-error';
import type { ApiKeyService } from '../services/api-key-service';

/** Admin endpoints: `Authorization: Bearer <key>`; the principal lands in `res.locals`. */
export function requireApiKey(keys: ApiKeyService): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const source = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    if (!match) {
      keys.recordFailure(source, 'missing');
      throw new UnauthorizedError('send an API key as "Authorization: Bearer <key>"');
    }
    res.locals.principal = await keys.authenticate(match[1]!, source);
    next();
  };
}

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** Checks the caller's role (and app scope); an app outside the scope looks like it does not exist. */
export function authorize(res: Response, permission: Permission, appId?: string): Principal {
  const principal = principalOf(res);
  if (appId !== undefined && !canAccessApp(principal, appId)) throw new NotFoundError(`no app ${appId}`);
  const refusal = permissionRefusal(principal, permission);
  if (refusal) throw new ForbiddenError(refusal);
  return principal;
}
