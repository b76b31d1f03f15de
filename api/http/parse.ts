import { z } from 'zod';
import { ValidationError } from '../../domain/errors/validation-error';
import { describeIssues, type KnownFields } from './describe-issues';
import { phraseIssue } from './issue-phrases';

/** Parses untrusted input with a schema, turning every issue into a field problem the caller can fix. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.infer<S> {
  if (input === undefined) throw missingBody(schema);
  // Valid input is parsed without the error map, which only phrases problems: given one, zod takes a
  // slower path whose objects outlive a scavenge (~70 bytes promoted per check body, none without), which
  // on the device path promoted ~1 MB/s at 2,000 checks/s (BENCHMARKS.md, "What survived a scavenge").
  const valid = schema.safeParse(input);
  if (valid.success) return valid.data;
  const known: KnownFields = new WeakMap();
  const result = schema.safeParse(input, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys' && issue.inst instanceof z.ZodObject) known.set(issue.keys, Object.keys(issue.inst.shape));
      return phraseIssue(issue);
    },
  });
  if (result.success) return result.data;
  const problems = describeIssues(result.error.issues, input, known);
  throw new ValidationError(`invalid ${what}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
}

// Express leaves the body undefined when none came or its content-type was not JSON.
function missingBody(schema: z.ZodType): ValidationError {
  const message = `send ${shapeOf(schema)} with content-type: application/json`;
  return new ValidationError(`the request has no JSON body; ${message}`, [{ path: '(root)', message: `required; ${message}` }]);
}

/** `{version, url, size, notes?}`: the fields a body takes, optional ones marked as in the API docs. */
function shapeOf(schema: z.ZodType): string {
  if (!(schema instanceof z.ZodObject)) return 'a JSON object';
  const fields = Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => (field.safeParse(undefined).success ? `${name}?` : name));
  return `{${fields.join(', ')}}`;
}
