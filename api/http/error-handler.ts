import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isDatabaseUnavailable, isDataException } from '../../db/pg-errors';
import { AppError, type ErrorKind } from '../../domain/errors/app-error';
import type { Logger } from '../../platform/logger';
import { bodyClientError } from './body-errors';

const STATUS_OF: Record<ErrorKind, number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

/**
 * The one place errors become responses: `{error: {code, message, details?}}`, 500s logged once. A
 * dependency that is down (PostgreSQL, Temporal, the worker) or an overloaded queue is a 503 with
 * `Retry-After`: clients and load balancers back off and retry instead of treating it as a bug.
 */
export function createErrorHandler(logger: Logger, retryAfterSeconds: number): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof AppError) {
      if (err.kind === 'unavailable') res.set('retry-after', String(retryAfterSeconds));
      res.status(STATUS_OF[err.kind]).json({ error: err.toJSON() });
      return;
    }
    if (isDatabaseUnavailable(err)) {
      logger.warn({ err, method: req.method, path: req.path }, 'PostgreSQL unavailable');
      res
        .status(503)
        .set('retry-after', String(retryAfterSeconds))
        .json({ error: { code: 'database_unavailable', message: `the database cannot be reached right now; retry in ${retryAfterSeconds} s` } });
      return;
    }
    const bodyError = bodyClientError(err);
    if (bodyError) {
      const message = bodyError.known?.message ?? (err instanceof Error ? err.message : 'the body cannot be read');
      res.status(bodyError.status).json({ error: { code: bodyError.known?.code ?? 'bad_request', message } });
      return;
    }
    // A backstop behind the schemas: a value PostgreSQL refuses is the request's fault, not the server's.
    if (isDataException(err)) {
      res.status(400).json({ error: { code: 'invalid_input', message: `a value of the request cannot be stored (${err.message})` } });
      return;
    }
    const id = randomUUID();
    logger.error({ err, errorId: id, method: req.method, path: req.path }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: `internal error; quote ${id} when reporting it` } });
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'route_not_found', message: `no route for ${req.method} ${req.path}` } });
};
