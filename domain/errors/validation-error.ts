import { AppError } from './app-error';

export interface FieldProblem {
  path: string;
  message: string;
}

export class ValidationError extends AppError {
  readonly code = 'validation_failed';
  readonly kind = 'validation';

  constructor(message: string, problems?: FieldProblem[]) {
    super(message, problems === undefined ? undefined : { problems });
  }
}
