import type { Request, RequestHandler } from 'express';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Admin bodies are JSON. One sent as anything else would reach the route as "no body" and be
 * refused field by field; this says what is actually wrong. A request without a body passes: the
 * route says which body it needs.
 */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  if (!BODY_METHODS.has(req.method) || !carriesBody(req) || req.is('application/json')) {
    next();
    return;
  }
  const type = req.headers['content-type'];
  const sent = type === undefined ? 'the request has no content-type' : `got content-type: ${type}`;
  res.status(415).json({
    error: { code: 'unsupported_media_type', message: `send the body as JSON with content-type: application/json (${sent})` },
  });
};

// Clients send `content-length: 0` with a body-less POST; only a non-empty body has a type to check.
function carriesBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}
