import semver from 'semver';
import { createBoundedCache } from './bounded-cache';
import type { Platform } from './bundle';
import { normalizeNativeVersion } from './native-compat';
import { DEFAULT_SEGMENT } from './segment';

export const RULE_OPERATORS = [
  'eq',
  'neq',
  'in',
  'not_in',
  'starts_with',
  'ends_with',
  'contains',
  'gt',
  'gte',
  'lt',
  'lte',
  'semver_eq',
  'semver_gt',
  'semver_gte',
  'semver_lt',
  'semver_lte',
  'semver_satisfies',
  'is_true',
  'is_false',
  'exists',
  'not_exists',
] as const;
export type RuleOperator = (typeof RULE_OPERATORS)[number];

export type AttributeValue = string | number | boolean;

/** Profiles hold what devices sent as JSON; only what segment rules can compare is kept. */
export function ruleAttributes(attributes: Record<string, unknown>): Record<string, AttributeValue> {
  const result: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') result[name] = value;
  }
  return result;
}

/** One comparison of a device attribute; see DESIGN §4 and the Unleash constraint operators. */
export interface RuleCondition {
  /** A built-in attribute or `attributes.<name>` for a custom one. */
  attribute: string;
  op: RuleOperator;
  value?: AttributeValue;
  values?: Array<string | number>;
  caseInsensitive?: boolean;
}

/** A segment's rule, as stored and as accepted by the admin API. */
export type SegmentRule = { all: SegmentRule[] } | { any: SegmentRule[] } | { not: SegmentRule } | { always: true } | RuleCondition;

/** What a rule can see of a device. */
export interface DeviceRuleContext {
  deviceId: string;
  /** null: the protocol does not say (CodePush); rules on it then fail closed. */
  platform: Platform | null;
  nativeVersion: string;
  bundleVersion: string;
  channel: string;
  attributes: Record<string, AttributeValue>;
  /** Null for a device seen for the first time: treated as a missing attribute. */
  sessionsLast7d: number | null;
  daysSinceFirstSeen: number | null;
}

/** `version` attributes are strings that the semver operators also understand. */
export type BuiltinAttributeKind = 'string' | 'version' | 'number';

export const BUILTIN_ATTRIBUTES: Readonly<Record<string, BuiltinAttributeKind>> = {
  channel: 'string',
  platform: 'string',
  deviceId: 'string',
  nativeVersion: 'version',
  bundleVersion: 'version',
  sessionsLast7d: 'number',
  daysSinceFirstSeen: 'number',
};

export const CUSTOM_ATTRIBUTE_PREFIX = 'attributes.';
export const CUSTOM_ATTRIBUTE_NAME = /^[a-zA-Z][a-zA-Z0-9_.-]{0,63}$/;

export const RULE_LIMITS = { maxDepth: 8, maxNodes: 200, maxValues: 1000 } as const;

export interface RankedSegment {
  key: string;
  priority: number;
  rule: SegmentRule;
}

export type RulePredicate = (ctx: DeviceRuleContext) => boolean;
export type SegmentResolver = (ctx: DeviceRuleContext) => string;

type Accessor = (ctx: DeviceRuleContext) => AttributeValue | undefined;
type ValueTest = (value: AttributeValue) => boolean;

const ALWAYS: RulePredicate = () => true;
const NEVER: RulePredicate = () => false;

/** Only these operators match a device that lacks the attribute (Unleash's NOT_IN semantics). */
const MATCHES_WHEN_MISSING: ReadonlySet<RuleOperator> = new Set<RuleOperator>(['neq', 'not_in', 'not_exists']);

export function evaluateRule(rule: SegmentRule, ctx: DeviceRuleContext): boolean {
  return compileRule(rule)(ctx);
}

/**
 * Turns a rule into a closure tree once, so that evaluating it per device check allocates nothing
 * beyond lower-casing the attribute of a case-insensitive comparison. Anything a validated rule
 * cannot contain (an unknown operator from older data, an invalid version) compiles to "no match".
 */
export function compileRule(rule: SegmentRule): RulePredicate {
  if ('all' in rule) return allOf(rule.all.map(compileRule));
  if ('any' in rule) return anyOf(rule.any.map(compileRule));
  if ('not' in rule) {
    const inner = compileRule(rule.not);
    return (ctx) => !inner(ctx);
  }
  if ('always' in rule) return rule.always === true ? ALWAYS : NEVER;
  return compileCondition(rule);
}

const ENGAGEMENT_ATTRIBUTES: ReadonlySet<string> = new Set(['sessionsLast7d', 'daysSinceFirstSeen']);

/** Whether a rule looks at derived engagement, which has to be loaded from device profiles first. */
export function usesEngagement(rule: SegmentRule): boolean {
  if ('all' in rule) return rule.all.some(usesEngagement);
  if ('any' in rule) return rule.any.some(usesEngagement);
  if ('not' in rule) return usesEngagement(rule.not);
  if ('always' in rule) return false;
  return ENGAGEMENT_ATTRIBUTES.has(rule.attribute);
}

/** Evaluation order of an app's segments: ascending priority, ties broken by key. */
function rankSegments<T extends RankedSegment>(segments: readonly T[]): T[] {
  return [...segments].sort((a, b) => a.priority - b.priority || compareKeys(a.key, b.key));
}

/** First matching segment by ascending priority, ties broken by key; the catch-all otherwise. */
export function compileSegments(segments: readonly RankedSegment[]): SegmentResolver {
  const ordered = rankSegments(segments).map((segment) => ({ key: segment.key, matches: compileRule(segment.rule) }));
  return (ctx) => {
    for (const segment of ordered) if (segment.matches(ctx)) return segment.key;
    return DEFAULT_SEGMENT;
  };
}

export interface SegmentExplanation {
  segment: string;
  /** The segment whose rule matched first; null: no rule matched, the catch-all took the device. */
  matched: RankedSegment | null;
}

/** What `compileSegments` decides, with the rule that decided it: for explaining, not the hot path. */
export function explainSegment(segments: readonly RankedSegment[], ctx: DeviceRuleContext): SegmentExplanation {
  for (const segment of rankSegments(segments)) {
    if (evaluateRule(segment.rule, ctx)) return { segment: segment.key, matched: { key: segment.key, priority: segment.priority, rule: segment.rule } };
  }
  return { segment: DEFAULT_SEGMENT, matched: null };
}

const resolvers = new WeakMap<readonly RankedSegment[], SegmentResolver>();

/**
 * `compileSegments` memoised per array: callers that keep an app's segment list as an immutable
 * snapshot pay for compilation once. Mutating that array in place afterwards is not noticed.
 */
export function resolveSegment(segments: readonly RankedSegment[], ctx: DeviceRuleContext): string {
  let resolver = resolvers.get(segments);
  if (resolver === undefined) {
    resolver = compileSegments(segments);
    resolvers.set(segments, resolver);
  }
  return resolver(ctx);
}

// Code-unit order, not localeCompare: the outcome must not depend on the host's locale.
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function allOf(parts: RulePredicate[]): RulePredicate {
  const [only] = parts;
  if (only === undefined) return ALWAYS;
  if (parts.length === 1) return only;
  return (ctx) => {
    for (const part of parts) if (!part(ctx)) return false;
    return true;
  };
}

function anyOf(parts: RulePredicate[]): RulePredicate {
  const [only] = parts;
  if (only === undefined) return NEVER;
  if (parts.length === 1) return only;
  return (ctx) => {
    for (const part of parts) if (part(ctx)) return true;
    return false;
  };
}

function compileCondition(condition: RuleCondition): RulePredicate {
  const read = accessorOf(condition.attribute);
  const test = testOf(condition);
  const whenMissing = MATCHES_WHEN_MISSING.has(condition.op);
  return (ctx) => {
    const value = read(ctx);
    return value === undefined ? whenMissing : test(value);
  };
}

function accessorOf(attribute: string): Accessor {
  switch (attribute) {
    case 'channel':
      return (ctx) => ctx.channel;
    case 'platform':
      return (ctx) => ctx.platform ?? undefined;
    case 'deviceId':
      return (ctx) => ctx.deviceId;
    case 'nativeVersion':
      return (ctx) => ctx.nativeVersion;
    case 'bundleVersion':
      return (ctx) => ctx.bundleVersion;
    case 'sessionsLast7d':
      return (ctx) => ctx.sessionsLast7d ?? undefined;
    case 'daysSinceFirstSeen':
      return (ctx) => ctx.daysSinceFirstSeen ?? undefined;
  }
  if (!attribute.startsWith(CUSTOM_ATTRIBUTE_PREFIX)) return () => undefined;
  const name = attribute.slice(CUSTOM_ATTRIBUTE_PREFIX.length);
  // hasOwn: `attributes.constructor` must not read Object.prototype. Devices send JSON, so a
  // null or nested value can slip past the type; it counts as missing.
  return (ctx) => (Object.hasOwn(ctx.attributes, name) ? asAttributeValue(ctx.attributes[name]) : undefined);
}

function asAttributeValue(value: unknown): AttributeValue | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
}

function testOf(condition: RuleCondition): ValueTest {
  const { op, value } = condition;
  const caseInsensitive = condition.caseInsensitive === true;
  switch (op) {
    case 'eq':
      return equalityTest(value, caseInsensitive);
    case 'neq':
      return negate(equalityTest(value, caseInsensitive));
    case 'in':
      return membershipTest(condition.values ?? [], caseInsensitive);
    case 'not_in':
      return negate(membershipTest(condition.values ?? [], caseInsensitive));
    case 'starts_with':
    case 'ends_with':
    case 'contains':
      return substringTest(op, needlesOf(condition), caseInsensitive);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return typeof value === 'number' ? numberTest(op, value) : () => false;
    case 'semver_eq':
    case 'semver_gt':
    case 'semver_gte':
    case 'semver_lt':
    case 'semver_lte':
      return versionComparisonTest(op, value);
    case 'semver_satisfies':
      return versionRangeTest(value);
    case 'is_true':
      return (v) => v === true;
    case 'is_false':
      return (v) => v === false;
    case 'exists':
      return () => true;
    case 'not_exists':
      return () => false;
    default:
      return () => false;
  }
}

// neq and not_in are the exact negations of eq and in (Unleash's `inverted`): a string attribute
// compared with a number value is "not equal", not a failure.
function negate(test: ValueTest): ValueTest {
  return (v) => !test(v);
}

function equalityTest(expected: AttributeValue | undefined, caseInsensitive: boolean): ValueTest {
  if (typeof expected === 'string' && caseInsensitive) {
    const lower = expected.toLowerCase();
    return (v) => typeof v === 'string' && v.toLowerCase() === lower;
  }
  if (typeof expected === 'string' || typeof expected === 'number') return (v) => v === expected;
  return () => false;
}

function membershipTest(values: ReadonlyArray<string | number>, caseInsensitive: boolean): ValueTest {
  const strings = new Set<string>();
  const numbers = new Set<number>();
  for (const v of values) {
    if (typeof v === 'number') numbers.add(v);
    else if (typeof v === 'string') strings.add(caseInsensitive ? v.toLowerCase() : v);
  }
  return (v) => {
    if (typeof v === 'number') return numbers.has(v);
    if (typeof v === 'string') return strings.has(caseInsensitive ? v.toLowerCase() : v);
    return false;
  };
}

function needlesOf(condition: RuleCondition): string[] {
  const raw = condition.values ?? (condition.value === undefined ? [] : [condition.value]);
  const strings = raw.filter((v): v is string => typeof v === 'string');
  return condition.caseInsensitive === true ? strings.map((s) => s.toLowerCase()) : strings;
}

function substringTest(op: 'starts_with' | 'ends_with' | 'contains', needles: readonly string[], caseInsensitive: boolean): ValueTest {
  const found = op === 'starts_with' ? startsWith : op === 'ends_with' ? endsWith : includes;
  return (v) => {
    if (typeof v !== 'string') return false;
    const haystack = caseInsensitive ? v.toLowerCase() : v;
    for (const needle of needles) if (found(haystack, needle)) return true;
    return false;
  };
}

const startsWith = (haystack: string, needle: string) => haystack.startsWith(needle);
const endsWith = (haystack: string, needle: string) => haystack.endsWith(needle);
const includes = (haystack: string, needle: string) => haystack.includes(needle);

// NaN attributes fall out naturally: every comparison with NaN is false.
function numberTest(op: 'gt' | 'gte' | 'lt' | 'lte', bound: number): ValueTest {
  switch (op) {
    case 'gt':
      return (v) => typeof v === 'number' && v > bound;
    case 'gte':
      return (v) => typeof v === 'number' && v >= bound;
    case 'lt':
      return (v) => typeof v === 'number' && v < bound;
    case 'lte':
      return (v) => typeof v === 'number' && v <= bound;
  }
}

type VersionComparison = 'semver_eq' | 'semver_gt' | 'semver_gte' | 'semver_lt' | 'semver_lte';

const ORDER_MATCHES: Record<VersionComparison, (order: number) => boolean> = {
  semver_eq: (order) => order === 0,
  semver_gt: (order) => order > 0,
  semver_gte: (order) => order >= 0,
  semver_lt: (order) => order < 0,
  semver_lte: (order) => order <= 0,
};

function versionComparisonTest(op: VersionComparison, expected: AttributeValue | undefined): ValueTest {
  const target = typeof expected === 'string' ? semver.parse(expected) : null;
  if (target === null) return () => false;
  const matches = ORDER_MATCHES[op];
  return (v) => {
    const version = parsedVersion(v);
    return version !== null && matches(version.compare(target));
  };
}

function versionRangeTest(expected: AttributeValue | undefined): ValueTest {
  const range = typeof expected === 'string' ? parseRange(expected) : null;
  if (range === null) return () => false;
  return (v) => {
    const version = parsedVersion(v);
    return version !== null && range.test(version);
  };
}

// The same prerelease handling as native compatibility checks (native-compat.ts).
function parseRange(range: string): semver.Range | null {
  try {
    return new semver.Range(range, { includePrerelease: true });
  } catch {
    return null;
  }
}

// A fleet reports few distinct versions; remembering them keeps semver's regexes off the hot path.
// Bounded so that junk versions sent by devices cannot grow it without limit.
const parsedVersions = createBoundedCache<semver.SemVer | null>(1024);

function parsedVersion(value: AttributeValue): semver.SemVer | null {
  if (typeof value !== 'string') return null;
  return parsedVersions.get(value, () => {
    const normalized = normalizeNativeVersion(value);
    return normalized === null ? null : semver.parse(normalized);
  });
}
