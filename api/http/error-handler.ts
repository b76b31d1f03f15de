import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../../domain/errors/app-error';
import type { Logger } from '../../platform/logger';
import { BODY_ERRORS } from './body-errors';

interface BodyParserError {
  type: string;
  status?: number;
  expose?: boolean;
  message: string;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string' && 'status' in err;
}

/** The one place errors become responses: `{error: {code, message, details?}}`, 500s logged once. */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof AppError) {
      res.status(err.statusCode).json({ error: err.toJSON() });
      return;
    }
    if (isBodyParserError(err)) {
      const known = BODY_ERRORS[err.type];
      const status = known?.status ?? err.status ?? 400;
      if (status < 500) {
        res.status(status).json({ error: { code: known?.code ?? 'bad_request', message: known?.message ?? err.message } });
        return;
      }
    }
    const id = randomUUID();
    logger.error({ err, errorId: id, method: req.method, path: req.path }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: `internal error; quote ${id} when reporting it` } });
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'route_not_found', message: `no route for ${req.method} ${req.path}` } });
};
