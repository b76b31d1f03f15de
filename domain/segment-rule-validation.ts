import semver from 'semver';
import type { FieldProblem } from './errors/validation-error';
import { isRecord } from './is-record';
import {
  BUILTIN_ATTRIBUTES,
  CUSTOM_ATTRIBUTE_NAME,
  CUSTOM_ATTRIBUTE_PREFIX,
  RULE_LIMITS,
  RULE_OPERATORS,
  type BuiltinAttributeKind,
  type RuleOperator,
  type SegmentRule,
} from './segment-rules';

export type RuleValidation = { ok: true; rule: SegmentRule } | { ok: false; problems: FieldProblem[] };

/** Where an operator's operand goes. */
type Operand = 'value' | 'values' | 'valueOrValues' | 'none';
/** What an operator's operand must be, which is also what it reads of the attribute. */
type OperandType = 'stringOrNumber' | 'string' | 'number' | 'version' | 'range' | 'boolean' | 'any';

interface OperatorSpec {
  operand: Operand;
  type: OperandType;
  caseInsensitive: boolean;
}

const equality: OperatorSpec = { operand: 'value', type: 'stringOrNumber', caseInsensitive: true };
const membership: OperatorSpec = { operand: 'values', type: 'stringOrNumber', caseInsensitive: true };
const substring: OperatorSpec = { operand: 'valueOrValues', type: 'string', caseInsensitive: true };
const numeric: OperatorSpec = { operand: 'value', type: 'number', caseInsensitive: false };
const version: OperatorSpec = { operand: 'value', type: 'version', caseInsensitive: false };
const flag: OperatorSpec = { operand: 'none', type: 'boolean', caseInsensitive: false };
const presence: OperatorSpec = { operand: 'none', type: 'any', caseInsensitive: false };

const OPERATORS: Record<RuleOperator, OperatorSpec> = {
  eq: equality,
  neq: equality,
  in: membership,
  not_in: membership,
  starts_with: substring,
  ends_with: substring,
  contains: substring,
  gt: numeric,
  gte: numeric,
  lt: numeric,
  lte: numeric,
  semver_eq: version,
  semver_gt: version,
  semver_gte: version,
  semver_lt: version,
  semver_lte: version,
  semver_satisfies: { operand: 'value', type: 'range', caseInsensitive: false },
  is_true: flag,
  is_false: flag,
  exists: presence,
  not_exists: presence,
};

const GROUP_KEYS = ['all', 'any', 'not', 'always'] as const;
const CONDITION_KEYS: ReadonlySet<string> = new Set(['attribute', 'op', 'value', 'values', 'caseInsensitive']);
const NODE_SHAPES = '{all: [...]}, {any: [...]}, {not: {...}}, {always: true} or a condition {attribute, op, value?, values?, caseInsensitive?}';

interface Walk {
  problems: FieldProblem[];
  nodes: number;
}

/**
 * Checks untrusted JSON against the rule language, reporting every problem with a path under
 * `path` (the field the rule came in) so the admin can fix them all at once.
 */
export function validateRule(rule: unknown, path = 'rule'): RuleValidation {
  const walk: Walk = { problems: [], nodes: 0 };
  checkNode(rule, path, 1, walk);
  if (walk.nodes > RULE_LIMITS.maxNodes) {
    walk.problems.unshift({ path, message: `a rule has at most ${RULE_LIMITS.maxNodes} nodes (conditions and groups)` });
  }
  // Every node was checked for its exact keys and operand types, so the JSON is a SegmentRule.
  return walk.problems.length === 0 ? { ok: true, rule: rule as SegmentRule } : { ok: false, problems: walk.problems };
}

// Past the node limit the walk stops: the limit is reported once and the rest is not worth reading.
function checkNode(node: unknown, path: string, depth: number, walk: Walk): void {
  walk.nodes += 1;
  if (walk.nodes > RULE_LIMITS.maxNodes) return;
  const add = (at: string, message: string): void => {
    walk.problems.push({ path: at, message });
  };
  if (depth > RULE_LIMITS.maxDepth) return add(path, `rules nest at most ${RULE_LIMITS.maxDepth} levels deep`);
  if (!isRecord(node)) return add(path, `must be an object: ${NODE_SHAPES}`);

  const groups = GROUP_KEYS.filter((key) => key in node);
  const isCondition = 'attribute' in node || 'op' in node;
  const [group] = groups;
  if (groups.length + (isCondition ? 1 : 0) !== 1) {
    const found = [...groups, ...(isCondition ? ['attribute/op'] : [])];
    return add(path, `must be exactly one of ${NODE_SHAPES}; found ${found.length === 0 ? 'none' : found.join(' and ')}`);
  }
  const unknown = Object.keys(node).filter((key) => (group === undefined ? !CONDITION_KEYS.has(key) : key !== group));
  for (const key of unknown) add(`${path}.${key}`, `unknown field "${key}"`);

  switch (group) {
    case 'all':
    case 'any':
      return checkList(node[group], `${path}.${group}`, depth, walk);
    case 'not':
      return checkNode(node.not, `${path}.not`, depth + 1, walk);
    case 'always':
      if (node.always !== true) add(`${path}.always`, 'must be true (the catch-all)');
      return;
    case undefined:
      return checkCondition(node, path, add);
  }
}

function checkList(list: unknown, path: string, depth: number, walk: Walk): void {
  if (!Array.isArray(list)) {
    walk.problems.push({ path, message: 'must be an array of rules' });
    return;
  }
  for (const [i, child] of list.entries()) {
    if (walk.nodes > RULE_LIMITS.maxNodes) return;
    checkNode(child, `${path}[${i}]`, depth + 1, walk);
  }
}

function checkCondition(node: Record<string, unknown>, path: string, add: (at: string, message: string) => void): void {
  const kind = checkAttribute(node.attribute, `${path}.attribute`, add);
  const { op } = node;
  if (!isOperator(op)) {
    return add(`${path}.op`, typeof op === 'string' ? `unknown operator "${op}"; use one of ${RULE_OPERATORS.join(', ')}` : op === undefined ? 'a condition needs an op' : 'must be a string');
  }
  const spec = OPERATORS[op];
  checkOperandPlacement(node, op, spec.operand, path, add);
  if (node.value !== undefined) checkOperand(node.value, op, spec.type, `${path}.value`, add);
  if (node.values !== undefined) checkValues(node.values, op, spec.type, `${path}.values`, add);
  if (node.caseInsensitive !== undefined) {
    if (typeof node.caseInsensitive !== 'boolean') add(`${path}.caseInsensitive`, 'must be a boolean');
    else if (!spec.caseInsensitive) add(`${path}.caseInsensitive`, `${op} does not compare strings; caseInsensitive applies to eq, neq, in, not_in, starts_with, ends_with and contains`);
  }
  if (kind !== null && typeof node.attribute === 'string') checkAttributeKind(node, node.attribute, kind, op, spec.type, path, add);
}

/** The kind of a built-in attribute, null for a custom or invalid one. */
function checkAttribute(attribute: unknown, path: string, add: (at: string, message: string) => void): BuiltinAttributeKind | null {
  if (typeof attribute !== 'string') {
    add(path, attribute === undefined ? 'a condition needs an attribute' : 'must be a string');
    return null;
  }
  const builtin = Object.hasOwn(BUILTIN_ATTRIBUTES, attribute) ? BUILTIN_ATTRIBUTES[attribute] : undefined;
  if (builtin !== undefined) return builtin;
  if (!attribute.startsWith(CUSTOM_ATTRIBUTE_PREFIX)) {
    add(path, `unknown attribute "${attribute}"; use one of ${Object.keys(BUILTIN_ATTRIBUTES).join(', ')}, or ${CUSTOM_ATTRIBUTE_PREFIX}<name> for a custom attribute`);
  } else if (!CUSTOM_ATTRIBUTE_NAME.test(attribute.slice(CUSTOM_ATTRIBUTE_PREFIX.length))) {
    add(path, 'a custom attribute name starts with a letter and has at most 64 letters, digits, "_", "." or "-"');
  }
  return null;
}

function checkOperandPlacement(node: Record<string, unknown>, op: RuleOperator, operand: Operand, path: string, add: (at: string, message: string) => void): void {
  const hasValue = node.value !== undefined;
  const hasValues = node.values !== undefined;
  switch (operand) {
    case 'value':
      if (!hasValue) add(`${path}.value`, `${op} needs a value`);
      if (hasValues) add(`${path}.values`, op === 'eq' || op === 'neq' ? `${op} compares with one value; use ${op === 'eq' ? 'in' : 'not_in'} for a list` : `${op} compares with one value, not a list`);
      return;
    case 'values':
      if (!hasValues) add(`${path}.values`, `${op} needs a list of values`);
      if (hasValue) add(`${path}.value`, `${op} takes a list in "values"; use ${op === 'in' ? 'eq' : 'neq'} for a single value`);
      return;
    case 'valueOrValues':
      if (hasValue === hasValues) add(path, `${op} needs either a value or a list of values, not ${hasValue ? 'both' : 'neither'}`);
      return;
    case 'none':
      if (hasValue) add(`${path}.value`, `${op} takes no value`);
      if (hasValues) add(`${path}.values`, `${op} takes no values`);
      return;
  }
}

function checkValues(values: unknown, op: RuleOperator, type: OperandType, path: string, add: (at: string, message: string) => void): void {
  if (!Array.isArray(values)) return add(path, 'must be an array');
  if (values.length > RULE_LIMITS.maxValues) return add(path, `at most ${RULE_LIMITS.maxValues} values (got ${values.length})`);
  values.forEach((value, i) => checkOperand(value, op, type, `${path}[${i}]`, add));
}

function checkOperand(value: unknown, op: RuleOperator, type: OperandType, path: string, add: (at: string, message: string) => void): void {
  switch (type) {
    case 'stringOrNumber':
      if (typeof value === 'boolean') return add(path, `${op} compares strings or numbers; use is_true or is_false for booleans`);
      if (typeof value !== 'string' && !isFiniteNumber(value)) return add(path, `${op} compares strings or finite numbers`);
      return;
    case 'string':
      if (typeof value !== 'string' || value.length === 0) return add(path, `${op} needs a non-empty string`);
      return;
    case 'number':
      if (!isFiniteNumber(value)) return add(path, `${op} compares numbers; the value must be a finite number`);
      return;
    case 'version':
      if (typeof value !== 'string' || semver.valid(value) === null) return add(path, `${op} needs a semver version such as "2.4.0" (got ${JSON.stringify(value)})`);
      return;
    case 'range':
      if (typeof value !== 'string' || value.trim() === '' || semver.validRange(value) === null) {
        return add(path, `${op} needs a semver range such as ">=2.4.0 <3.0.0" or "^2.4" (got ${JSON.stringify(value)})`);
      }
      return;
    case 'boolean':
    case 'any':
      return;
  }
}

/** Built-in attributes have fixed types: catch comparisons that could never match. */
function checkAttributeKind(
  node: Record<string, unknown>,
  attribute: string,
  kind: BuiltinAttributeKind,
  op: RuleOperator,
  type: OperandType,
  path: string,
  add: (at: string, message: string) => void,
): void {
  const isString = kind === 'string' || kind === 'version';
  const article = kind === 'number' ? 'a number' : kind === 'version' ? 'a version string' : 'a string';
  const mismatch = (message: string) => add(`${path}.op`, `${attribute} is ${article}; ${message}`);
  switch (type) {
    case 'stringOrNumber': {
      const operands: unknown[] = Array.isArray(node.values) ? node.values : [node.value];
      const wanted = isString ? 'string' : 'number';
      if (operands.some((v) => (typeof v === 'string' || typeof v === 'number') && typeof v !== wanted)) {
        add(`${path}.${node.values !== undefined ? 'values' : 'value'}`, `${attribute} is ${article}; compare it with ${wanted}s`);
      }
      return;
    }
    case 'string':
      if (!isString) mismatch(`${op} applies to strings`);
      return;
    case 'number':
      if (isString) mismatch(`${op} compares numbers`);
      return;
    case 'version':
    case 'range':
      if (kind !== 'version') mismatch(`${op} applies to versions (nativeVersion, bundleVersion or a custom attribute)`);
      return;
    case 'boolean':
      mismatch(`${op} applies to boolean custom attributes`);
      return;
    case 'any':
      return;
  }
}

function isOperator(op: unknown): op is RuleOperator {
  return typeof op === 'string' && (RULE_OPERATORS as readonly string[]).includes(op);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
