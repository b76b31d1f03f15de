import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, type ErrorKind } from '../../domain/errors/app-error';
import type { Logger } from '../../platform/logger';

interface BodyParserError {
  type: string;
  status?: number;
  expose?: boolean;
  message: string;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string' && 'status' in err;
}

const BODY_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  'entity.parse.failed': { status: 400, code: 'invalid_json', message: 'the body is not valid JSON' },
  'entity.too.large': { status: 413, code: 'body_too_large', message: 'the body is larger than this endpoint accepts' },
  'encoding.unsupported': { status: 415, code: 'unsupported_encoding', message: 'unsupported content encoding' },
  'charset.unsupported': { status: 415, code: 'unsupported_charset', message: 'unsupported charset; send UTF-8' },
  'request.aborted': { status: 400, code: 'request_aborted', message: 'the request was aborted' },
};

const STATUS_OF: Record<ErrorKind, number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

/** The one place errors become responses: `{error: {code, message, details?}}`, 500s logged once. */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof AppError) {
      res.status(STATUS_OF[err.kind]).json({ error: err.toJSON() });
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
