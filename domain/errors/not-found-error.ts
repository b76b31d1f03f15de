import { AppError } from './app-error';

export class NotFoundError extends AppError {
  readonly code = 'not_found';
  readonly kind = 'not_found';
}
