import type { z } from 'zod';
import type { FieldProblem } from '../../domain/errors/validation-error';
import { closestName } from './closest-name';
import { formatPath, quoteValue, valueAt } from './problem-path';

type Issue = z.core.$ZodIssue;

/**
 * The fields of each strict object that refused a key, keyed by its issue's `keys` array: zod hands
 * that array through to the final issue unchanged, and the issue itself no longer names its schema.
 */
export type KnownFields = WeakMap<readonly string[], readonly string[]>;

/** One problem per thing to fix: path as the caller wrote it, what it must be, and what was sent. */
export function describeIssues(issues: readonly Issue[], input: unknown, known: KnownFields, prefix: readonly PropertyKey[] = []): FieldProblem[] {
  return issues.flatMap((issue) => describeIssue(issue, input, known, [...prefix, ...issue.path]));
}

function describeIssue(issue: Issue, input: unknown, known: KnownFields, path: PropertyKey[]): FieldProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: formatPath([...path, key]), message: unknownField(key, known.get(issue.keys)) }));
  }
  if (issue.code === 'invalid_union') {
    const branch = branchForInputType(issue);
    if (branch) return describeIssues(branch, input, known, path);
  }
  return [{ path: formatPath(path), message: withValue(issue, valueAt(input, path), path.length > 0) }];
}

/**
 * A union whose options take different types (a preset name or a plan object) is decided by the
 * type of the input: when exactly one option accepted that type, its issues are the real ones.
 */
function branchForInputType(issue: z.core.$ZodIssueInvalidUnion): Issue[] | undefined {
  const typed = issue.errors.filter((branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
  return typed.length === 1 ? typed[0] : undefined;
}

function withValue(issue: Issue, value: unknown, isField: boolean): string {
  // The path of a refused record key names the key already; its value is not what is wrong.
  if (issue.code === 'invalid_key') return issue.message;
  if (value !== undefined) return `${issue.message} (got ${quoteValue(value)})`;
  if (!isField) return issue.message;
  if (issue.code === 'invalid_type') return 'required';
  return issue.code === 'invalid_union' && issue.discriminator !== undefined ? `required; ${issue.message}` : issue.message;
}

function unknownField(key: string, known: readonly string[] | undefined): string {
  const message = `unknown field ${JSON.stringify(key)}`;
  if (!known) return message;
  const meant = closestName(key, known);
  return meant ? `${message} (did you mean ${JSON.stringify(meant)}?)` : `${message}; accepted: ${known.join(', ')}`;
}
