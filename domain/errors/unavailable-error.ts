import { AppError } from './app-error';

/** A dependency (Temporal, its worker, PostgreSQL) cannot be reached or is overloaded; the request may be retried. */
export class UnavailableError extends AppError {
  readonly kind = 'unavailable';

  constructor(
    message: string,
    readonly code: string = 'unavailable',
    details?: unknown,
  ) {
    super(message, details);
  }
}
