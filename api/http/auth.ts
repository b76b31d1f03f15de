import type { RequestHandler, Response } from 'express';
import { canAccessApp, hasPermission, type Permission, type Principal } from '../../domain/access';
import { ForbiddenError } from '../../domain/errors/forbidden-error';
import { NotFoundError } from '../../domain/errors/not-found-error';
import { UnauthorizedError } from '../../domain/errors/unauthorized-error';
import type { ApiKeyService } from '../services/api-key-service';

/** Admin endpoints: `Authorization: Bearer <key>`; the principal lands in `res.locals`. */
export function requireApiKey(keys: ApiKeyService): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new UnauthorizedError('send an API key as "Authorization: Bearer <key>"');
    const principal = await keys.authenticate(match[1]!);
    if (!principal) throw new UnauthorizedError('unknown or revoked API key');
    res.locals.principal = principal;
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
  if (!hasPermission(principal, permission)) {
    throw new ForbiddenError(`an API key with role "${principal.role}" may not ${permission.replace(/_/g, ' ')}`);
  }
  return principal;
}
