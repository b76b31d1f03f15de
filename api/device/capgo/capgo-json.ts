import type { RequestHandler } from 'express';
import { bodyClientError, CAPGO_UNREADABLE_BODY } from '../../http/body-errors';
import { leanJson } from '../lean-json';

/** `express.json` (lean: see leanJson) whose client errors are answered in Capgo's shape; anything else goes to the error handler. */
export function capgoJson(limitBytes: number): RequestHandler {
  const parseJson = leanJson(limitBytes);
  return (req, res, next) => {
    parseJson(req, res, (err?: unknown) => {
      if (err === undefined) return next();
      const problem = bodyClientError(err);
      if (!problem) return next(err);
      res.status(problem.status).json(problem.known?.capgo ?? CAPGO_UNREADABLE_BODY);
    });
  };
}
