import express, { type RequestHandler } from 'express';

// The plugin reads `error` from any non-2xx answer, so body problems get Capgo's shape, not Rampart's.
const BODY_PROBLEMS: Record<string, { error: string; message: string }> = {
  'entity.parse.failed': { error: 'invalid_json_parse_body', message: 'Invalid JSON body' },
  'entity.too.large': { error: 'body_too_large', message: 'Request body is larger than this endpoint accepts' },
  'encoding.unsupported': { error: 'unsupported_encoding', message: 'Unsupported content encoding' },
  'charset.unsupported': { error: 'unsupported_charset', message: 'Unsupported charset; send UTF-8' },
};

function clientError(err: unknown): { status: number; type: string } | null {
  if (typeof err !== 'object' || err === null) return null;
  const { status, type } = err as { status?: unknown; type?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500 && typeof type === 'string' ? { status, type } : null;
}

/** `express.json` whose client errors are answered in Capgo's shape; anything else goes to the error handler. */
export function capgoJson(limit: string): RequestHandler {
  const parseJson = express.json({ limit });
  return (req, res, next) => {
    parseJson(req, res, (err?: unknown) => {
      if (err === undefined) return next();
      const problem = clientError(err);
      if (!problem) return next(err);
      res.status(problem.status).json(BODY_PROBLEMS[problem.type] ?? { error: 'invalid_json_body', message: 'Cannot parse body' });
    });
  };
}
