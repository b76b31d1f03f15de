import { AppError } from './app-error';

export class ForbiddenError extends AppError {
  readonly code = 'forbidden';
  readonly kind = 'forbidden';
}
