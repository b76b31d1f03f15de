import { AppError } from './app-error';

export class UnauthorizedError extends AppError {
  readonly code = 'unauthorized';
  readonly kind = 'unauthorized';
}
