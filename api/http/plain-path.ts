import type { RequestHandler } from 'express';
import { ValidationError } from '../../domain/errors/validation-error';
import { isPlainText, NO_CONTROL_CHARACTERS } from './text';

const MALFORMED_ESCAPE = 'holds a malformed %-escape';

/**
 * Path parameters (`%00` in an app id, a device id) are strings like any other: refused before any
 * route reads them. A malformed escape (`%ZZ`) is refused here too, in the API's error shape, instead
 * of surfacing as the router's decoding error.
 */
export const refuseControlCharactersInPath: RequestHandler = (req, _res, next) => {
  let decoded: string;
  try {
    decoded = decodeURIComponent(req.path);
  } catch {
    throw new ValidationError(`invalid path: it ${MALFORMED_ESCAPE}`, [{ path: '(path)', message: MALFORMED_ESCAPE }]);
  }
  if (!isPlainText(decoded)) throw new ValidationError(`invalid path: ${NO_CONTROL_CHARACTERS}`, [{ path: '(path)', message: NO_CONTROL_CHARACTERS }]);
  next();
};
