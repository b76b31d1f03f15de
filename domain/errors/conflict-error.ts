import { AppError } from './app-error';

export class ConflictError extends AppError {
  readonly kind = 'conflict';

  constructor(
    message: string,
    readonly code: string = 'conflict',
    details?: unknown,
  ) {
    super(message, details);
  }
}
