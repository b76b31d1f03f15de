import { AppError } from './app-error';

/** A dependency (Temporal, PostgreSQL) cannot be reached; the request may be retried. */
export class UnavailableError extends AppError {
  readonly code = 'unavailable';
  readonly kind = 'unavailable';
}
