import express, { type RequestHandler } from 'express';
import { BODY_ERRORS, CAPGO_UNREADABLE_BODY } from '../../http/body-errors';

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
      const known = BODY_ERRORS[problem.type];
      res.status(known?.status ?? problem.status).json(known?.capgo ?? CAPGO_UNREADABLE_BODY);
    });
  };
}
