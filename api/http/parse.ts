import type { z } from 'zod';
import { ValidationError } from '../../domain/errors/validation-error';

/** Parses untrusted input with a schema, turning every issue into a field problem the caller can fix. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message }));
  throw new ValidationError(`invalid ${what}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
}
