import type { RequestHandler } from 'express';
import { ValidationError } from '../../domain/errors/validation-error';
import { isPlainText, NO_CONTROL_CHARACTERS } from './text';

/** Path parameters (`%00` in an app id, a device id) are strings like any other: refused before any route reads them. */
export const refuseControlCharactersInPath: RequestHandler = (req, _res, next) => {
  let decoded: string;
  try {
    decoded = decodeURIComponent(req.path);
  } catch {
    // A malformed escape: Express answers it when a route decodes its parameters.
    return next();
  }
  if (!isPlainText(decoded)) throw new ValidationError(`invalid path: ${NO_CONTROL_CHARACTERS}`, [{ path: '(path)', message: NO_CONTROL_CHARACTERS }]);
  next();
};
