import type { z } from 'zod';

type RawIssue = z.core.$ZodRawIssue;

const TYPE_NAMES: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  object: 'an object',
  record: 'an object',
  array: 'an array',
  null: 'null',
};

const FORMAT_PHRASES: Record<string, string> = {
  url: 'must be a URL',
  datetime: 'must be an ISO 8601 time such as 2025-06-01T12:00:00Z',
  date: 'must be a date such as 2025-06-01',
  uuid: 'must be a UUID',
  email: 'must be an e-mail address',
};

const typeName = (expected: string) => TYPE_NAMES[expected] ?? expected;

/**
 * Zod's default messages ("Too small: expected number to be >=1") describe its internals; these say
 * what the field must be. Only issues without a message of the schema's own come here; the value as
 * sent is added by the caller, which knows the whole input.
 */
export function phraseIssue(issue: RawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${typeName(issue.expected)}`;
    case 'too_small':
      return phraseBound(true, issue.origin, issue.minimum, issue.inclusive !== false);
    case 'too_big':
      return phraseBound(false, issue.origin, issue.maximum, issue.inclusive !== false);
    case 'invalid_value':
      return phraseValues(issue.values);
    case 'invalid_format':
      return phraseFormat(issue.format, issue.pattern);
    case 'invalid_union':
      return phraseUnion(issue);
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'invalid_key':
      return `invalid name (${issue.issues.map((i) => i.message).join('; ')})`;
    case 'invalid_element':
      return `invalid element (${issue.issues.map((i) => i.message).join('; ')})`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'custom':
      return 'is not accepted';
  }
}

function phraseValues(values: readonly unknown[]): string {
  return values.length === 1 ? `must be ${JSON.stringify(values[0])}` : `must be one of ${values.map(String).join(', ')}`;
}

function phraseFormat(format: string, pattern: string | undefined): string {
  return format === 'regex' ? `must match ${pattern}` : (FORMAT_PHRASES[format] ?? `must be a valid ${format}`);
}

function phraseBound(small: boolean, origin: string, limit: number | bigint, inclusive: boolean): string {
  switch (origin) {
    case 'string':
      if (small && limit === 1) return 'must not be empty';
      return `must be ${small ? 'at least' : 'at most'} ${limit} characters long`;
    case 'array':
    case 'set':
      if (small && limit === 1) return 'must not be empty';
      return `must have ${small ? 'at least' : 'at most'} ${limit} items`;
    default:
      if (small) return inclusive ? `must be at least ${limit}` : `must be greater than ${limit}`;
      return inclusive ? `must be at most ${limit}` : `must be less than ${limit}`;
  }
}

/** A discriminator nothing matched names the accepted values; otherwise the types each option takes. */
function phraseUnion(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidUnion>): string {
  const options = 'options' in issue ? (issue.options as unknown[] | undefined) : undefined;
  if (issue.discriminator !== undefined && options) return `must be one of ${options.map(String).join(', ')}`;
  const expected = issue.errors.flatMap((branch) => branch.filter((i) => i.code === 'invalid_type' && i.path.length === 0).map((i) => typeName((i as z.core.$ZodIssueInvalidType).expected)));
  return expected.length === issue.errors.length ? `must be ${joinOr([...new Set(expected)])}` : 'matches none of the accepted shapes';
}

function joinOr(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}
