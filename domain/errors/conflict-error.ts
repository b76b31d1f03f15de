import { AppError } from './app-error';

export class ConflictError extends AppError {
  readonly statusCode = 409;

  constructor(
    message: string,
    readonly code: string = 'conflict',
    details?: unknown,
  ) {
    super(message, details);
  }
}
