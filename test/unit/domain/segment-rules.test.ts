import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateRule } from '../../../domain/segment-rule-validation';
import {
  compileSegments,
  evaluateRule,
  resolveSegment,
  RULE_OPERATORS,
  type DeviceRuleContext,
  type RankedSegment,
  type RuleCondition,
  type SegmentRule,
} from '../../../domain/segment-rules';

const device = (overrides: Partial<DeviceRuleContext> = {}): DeviceRuleContext => ({
  deviceId: 'device-42',
  platform: 'ios',
  nativeVersion: '3.2 (417)',
  bundleVersion: '1.8.0',
  channel: 'production',
  attributes: { plan: 'Enterprise', seats: 250, beta: true, optedOut: false, appBuild: '3.10.0-rc.1' },
  sessionsLast7d: 12,
  daysSinceFirstSeen: 40,
  ...overrides,
});

const unknownDevice = device({ sessionsLast7d: null, daysSinceFirstSeen: null, attributes: {} });

const cond = (attribute: string, op: RuleCondition['op'], operand: Partial<RuleCondition> = {}): RuleCondition => ({ attribute, op, ...operand });

function problemsOf(rule: unknown): string[] {
  const result = validateRule(rule);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe(evaluateRule.name, () => {
  const cases: Array<[string, SegmentRule, boolean]> = [
    ['eq string', cond('channel', 'eq', { value: 'production' }), true],
    ['eq is case-sensitive by default', cond('attributes.plan', 'eq', { value: 'enterprise' }), false],
    ['eq case-insensitive', cond('attributes.plan', 'eq', { value: 'ENTERPRISE', caseInsensitive: true }), true],
    ['eq number', cond('attributes.seats', 'eq', { value: 250 }), true],
    ['eq never equates a number with its string', cond('attributes.seats', 'eq', { value: '250' }), false],
    ['neq', cond('platform', 'neq', { value: 'android' }), true],
    ['neq on an equal value', cond('platform', 'neq', { value: 'ios' }), false],
    ['neq case-insensitive', cond('attributes.plan', 'neq', { value: 'enterprise', caseInsensitive: true }), false],
    ['in', cond('platform', 'in', { values: ['android', 'ios'] }), true],
    ['in with numbers', cond('sessionsLast7d', 'in', { values: [1, 12] }), true],
    ['in is case-sensitive by default', cond('attributes.plan', 'in', { values: ['enterprise'] }), false],
    ['in case-insensitive', cond('attributes.plan', 'in', { values: ['team', 'ENTERPRISE'], caseInsensitive: true }), true],
    ['in with an empty list matches nobody', cond('channel', 'in', { values: [] }), false],
    ['not_in', cond('channel', 'not_in', { values: ['beta'] }), true],
    ['not_in on a listed value', cond('channel', 'not_in', { values: ['beta', 'production'] }), false],
    ['not_in with an empty list matches everybody', cond('channel', 'not_in', { values: [] }), true],
    ['starts_with', cond('deviceId', 'starts_with', { value: 'device-' }), true],
    ['starts_with any of values', cond('deviceId', 'starts_with', { values: ['x', 'dev'] }), true],
    ['starts_with case-insensitive', cond('deviceId', 'starts_with', { value: 'DEVICE', caseInsensitive: true }), true],
    ['starts_with case-sensitive', cond('deviceId', 'starts_with', { value: 'DEVICE' }), false],
    ['ends_with', cond('deviceId', 'ends_with', { value: '-42' }), true],
    ['ends_with case-insensitive', cond('attributes.plan', 'ends_with', { values: ['PRISE'], caseInsensitive: true }), true],
    ['contains', cond('attributes.plan', 'contains', { value: 'terp' }), true],
    ['contains none of values', cond('attributes.plan', 'contains', { values: ['free', 'team'] }), false],
    ['contains on a number attribute', cond('attributes.seats', 'contains', { value: '25' }), false],
    ['gt', cond('sessionsLast7d', 'gt', { value: 11 }), true],
    ['gt at the bound', cond('sessionsLast7d', 'gt', { value: 12 }), false],
    ['gte at the bound', cond('sessionsLast7d', 'gte', { value: 12 }), true],
    ['lt', cond('daysSinceFirstSeen', 'lt', { value: 41 }), true],
    ['lt at the bound', cond('daysSinceFirstSeen', 'lt', { value: 40 }), false],
    ['lte at the bound', cond('daysSinceFirstSeen', 'lte', { value: 40 }), true],
    ['gt on a string attribute is a type mismatch', cond('attributes.plan', 'gt', { value: 0 }), false],
    ['semver_eq normalises the native version', cond('nativeVersion', 'semver_eq', { value: '3.2.0' }), true],
    ['semver_gt', cond('nativeVersion', 'semver_gt', { value: '3.1.9' }), true],
    ['semver_gt at the version', cond('nativeVersion', 'semver_gt', { value: '3.2.0' }), false],
    ['semver_gte', cond('nativeVersion', 'semver_gte', { value: '3.2.0' }), true],
    ['semver_lt', cond('bundleVersion', 'semver_lt', { value: '1.10.0' }), true],
    ['semver_lte', cond('bundleVersion', 'semver_lte', { value: '1.7.9' }), false],
    ['semver orders prereleases before releases', cond('attributes.appBuild', 'semver_lt', { value: '3.10.0' }), true],
    ['semver_satisfies', cond('nativeVersion', 'semver_satisfies', { value: '>=3.0.0 <4.0.0' }), true],
    ['semver_satisfies outside the range', cond('nativeVersion', 'semver_satisfies', { value: '^3.3' }), false],
    ['semver_satisfies includes prereleases', cond('attributes.appBuild', 'semver_satisfies', { value: '^3.9.0' }), true],
    ['semver on a non-version is false', cond('attributes.plan', 'semver_gte', { value: '0.0.0' }), false],
    ['semver on a number attribute is false', cond('attributes.seats', 'semver_gte', { value: '0.0.0' }), false],
    ['is_true', cond('attributes.beta', 'is_true'), true],
    ['is_true on false', cond('attributes.optedOut', 'is_true'), false],
    ['is_false', cond('attributes.optedOut', 'is_false'), true],
    ['is_true on a string is a type mismatch', cond('attributes.plan', 'is_true'), false],
    ['exists', cond('attributes.plan', 'exists'), true],
    ['exists on a missing attribute', cond('attributes.region', 'exists'), false],
    ['not_exists', cond('attributes.region', 'not_exists'), true],
    ['not_exists on a present attribute', cond('attributes.plan', 'not_exists'), false],
    ['always', { always: true }, true],
  ];

  it.each(cases)('%s', (_name, rule, expected) => {
    expect(evaluateRule(rule, device())).toBe(expected);
  });

  it('treats a missing attribute as false for every operator but neq, not_in and not_exists', () => {
    const operands: Record<RuleCondition['op'], Partial<RuleCondition>> = {
      eq: { value: 'x' },
      neq: { value: 'x' },
      in: { values: ['x', 1] },
      not_in: { values: ['x', 1] },
      starts_with: { value: 'x' },
      ends_with: { value: 'x' },
      contains: { value: 'x' },
      gt: { value: 0 },
      gte: { value: 0 },
      lt: { value: 1e9 },
      lte: { value: 1e9 },
      semver_eq: { value: '1.0.0' },
      semver_gt: { value: '0.0.0' },
      semver_gte: { value: '0.0.0' },
      semver_lt: { value: '999.0.0' },
      semver_lte: { value: '999.0.0' },
      semver_satisfies: { value: '*' },
      is_true: {},
      is_false: {},
      exists: {},
      not_exists: {},
    };
    const matchingWhenMissing = RULE_OPERATORS.filter((op) => evaluateRule(cond('attributes.region', op, operands[op]), unknownDevice));
    expect(matchingWhenMissing).toEqual(['neq', 'not_in', 'not_exists']);
    for (const attribute of ['sessionsLast7d', 'daysSinceFirstSeen']) {
      expect(evaluateRule(cond(attribute, 'gte', { value: 0 }), unknownDevice)).toBe(false);
      expect(evaluateRule(cond(attribute, 'lt', { value: 1e9 }), unknownDevice)).toBe(false);
      expect(evaluateRule(cond(attribute, 'not_exists'), unknownDevice)).toBe(true);
      expect(evaluateRule(cond(attribute, 'not_in', { values: [0] }), unknownDevice)).toBe(true);
    }
  });

  it('does not read custom attributes from the object prototype', () => {
    expect(evaluateRule(cond('attributes.constructor', 'exists'), device())).toBe(false);
    expect(evaluateRule(cond('attributes.toString', 'not_exists'), device())).toBe(true);
  });

  it('treats an invalid native version as a type mismatch, not as 0.0.0', () => {
    const ctx = device({ nativeVersion: 'unknown' });
    expect(evaluateRule(cond('nativeVersion', 'semver_lt', { value: '99.0.0' }), ctx)).toBe(false);
    expect(evaluateRule(cond('nativeVersion', 'semver_satisfies', { value: '*' }), ctx)).toBe(false);
    expect(evaluateRule(cond('bundleVersion', 'semver_gte', { value: '0.0.0' }), device({ bundleVersion: 'builtin' }))).toBe(false);
  });

  it('fails closed on rules that never passed validation', () => {
    const unvalidated = (rule: unknown) => evaluateRule(rule as SegmentRule, device());
    expect(unvalidated({ attribute: 'channel', op: 'matches', value: 'production' })).toBe(false);
    expect(unvalidated({ attribute: 'nativeVersion', op: 'semver_gt', value: 'three' })).toBe(false);
    expect(unvalidated({ attribute: 'nativeVersion', op: 'semver_satisfies', value: '>>3' })).toBe(false);
    expect(unvalidated({ attribute: 'sessionsLast7d', op: 'gt', value: '3' })).toBe(false);
    expect(unvalidated({ attribute: 'attributes.beta', op: 'eq', value: true })).toBe(false);
    expect(unvalidated({ always: false })).toBe(false);
    expect(unvalidated({ attribute: 'region', op: 'exists' })).toBe(false);
  });

  it('combines conditions with all, any and not, empty groups included', () => {
    const enterprise = cond('attributes.plan', 'eq', { value: 'Enterprise' });
    const android = cond('platform', 'eq', { value: 'android' });
    expect(evaluateRule({ all: [] }, device())).toBe(true);
    expect(evaluateRule({ any: [] }, device())).toBe(false);
    expect(evaluateRule({ all: [enterprise, android] }, device())).toBe(false);
    expect(evaluateRule({ any: [enterprise, android] }, device())).toBe(true);
    expect(evaluateRule({ not: android }, device())).toBe(true);
    expect(evaluateRule({ all: [enterprise, { not: { any: [android, { all: [] }] } }] }, device())).toBe(false);
    const deep: SegmentRule = { not: { not: { all: [{ any: [{ not: { not: enterprise } }] }] } } };
    expect(evaluateRule(deep, device())).toBe(true);
  });

  it('agrees with its definition of all, any and not on random trees', () => {
    const leaves: SegmentRule[] = [cond('platform', 'eq', { value: 'ios' }), cond('platform', 'eq', { value: 'android' }), { always: true }];
    const truth = (rule: SegmentRule): boolean =>
      'all' in rule ? rule.all.every(truth) : 'any' in rule ? rule.any.some(truth) : 'not' in rule ? !truth(rule.not) : evaluateRule(rule, device());
    const { tree } = fc.letrec<{ tree: SegmentRule }>((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom(...leaves),
        fc.array(tie('tree'), { maxLength: 4 }).map((all) => ({ all })),
        fc.array(tie('tree'), { maxLength: 4 }).map((any) => ({ any })),
        tie('tree').map((not) => ({ not })),
      ),
    }));
    fc.assert(fc.property(tree, (rule) => evaluateRule(rule, device()) === truth(rule)));
  });
});

describe(validateRule.name, () => {
  it('accepts every operator with a well-typed operand and returns the rule', () => {
    const rule: SegmentRule = {
      all: [
        cond('channel', 'eq', { value: 'production', caseInsensitive: true }),
        cond('sessionsLast7d', 'neq', { value: 0 }),
        cond('platform', 'in', { values: ['ios', 'android'] }),
        cond('attributes.tier', 'not_in', { values: ['free', 3] }),
        cond('deviceId', 'starts_with', { value: 'qa-' }),
        cond('attributes.email', 'ends_with', { values: ['@example.com'], caseInsensitive: true }),
        cond('attributes.email', 'contains', { value: '+test' }),
        cond('sessionsLast7d', 'gt', { value: 3 }),
        cond('daysSinceFirstSeen', 'gte', { value: 1.5 }),
        cond('attributes.seats', 'lt', { value: -1 }),
        cond('attributes.seats', 'lte', { value: 100 }),
        cond('nativeVersion', 'semver_eq', { value: '3.2.0' }),
        cond('bundleVersion', 'semver_gt', { value: '1.0.0-beta.1' }),
        cond('nativeVersion', 'semver_gte', { value: '3.0.0' }),
        cond('attributes.osVersion', 'semver_lt', { value: '17.0.0' }),
        cond('nativeVersion', 'semver_lte', { value: '4.0.0' }),
        cond('nativeVersion', 'semver_satisfies', { value: '^3.2 || >=5' }),
        cond('attributes.beta', 'is_true'),
        cond('attributes.optedOut', 'is_false'),
        cond('attributes.region.code', 'exists'),
        cond('attributes.legacy-flag', 'not_exists'),
        { any: [{ not: { always: true } }] },
      ],
    };
    expect(RULE_OPERATORS.every((op) => JSON.stringify(rule).includes(`"op":"${op}"`))).toBe(true);
    expect(validateRule(rule)).toEqual({ ok: true, rule });
  });

  it('names unknown operators and attributes', () => {
    expect(problemsOf({ attribute: 'channel', op: 'matches', value: 'x' })).toEqual([
      `rule.op: unknown operator "matches"; use one of ${RULE_OPERATORS.join(', ')}`,
    ]);
    expect(problemsOf({ attribute: 'region', op: 'exists' })).toEqual([
      'rule.attribute: unknown attribute "region"; use one of channel, platform, deviceId, nativeVersion, bundleVersion, sessionsLast7d, daysSinceFirstSeen, or attributes.<name> for a custom attribute',
    ]);
    const badName = 'rule.attribute: a custom attribute name starts with a letter and has at most 64 letters, digits, "_", "." or "-"';
    expect(problemsOf(cond('attributes.1st', 'exists'))).toEqual([badName]);
    expect(problemsOf(cond('attributes.', 'exists'))).toEqual([badName]);
    expect(problemsOf(cond(`attributes.a${'b'.repeat(64)}`, 'exists'))).toEqual([badName]);
    expect(problemsOf(cond(`attributes.a${'b'.repeat(63)}`, 'exists'))).toEqual([]);
    expect(problemsOf({ op: 'exists' })).toEqual(['rule.attribute: a condition needs an attribute']);
    expect(problemsOf({ attribute: 'channel' })).toEqual(['rule.op: a condition needs an op']);
  });

  it('rejects operands of the wrong type or in the wrong place', () => {
    expect(problemsOf(cond('attributes.beta', 'eq', { value: true }))).toEqual(['rule.value: eq compares strings or numbers; use is_true or is_false for booleans']);
    expect(problemsOf(cond('channel', 'eq', { values: ['a'] }))).toEqual(['rule.value: eq needs a value', 'rule.values: eq compares with one value; use in for a list']);
    expect(problemsOf(cond('channel', 'in', { value: 'a' }))).toEqual(['rule.values: in needs a list of values', 'rule.value: in takes a list in "values"; use eq for a single value']);
    expect(problemsOf(cond('attributes.tier', 'in', { values: ['a', null, Number.NaN] as never }))).toEqual([
      'rule.values[1]: in compares strings or finite numbers',
      'rule.values[2]: in compares strings or finite numbers',
    ]);
    expect(problemsOf(cond('attributes.seats', 'gt', { value: '10' }))).toEqual(['rule.value: gt compares numbers; the value must be a finite number']);
    expect(problemsOf(cond('deviceId', 'contains', {}))).toEqual(['rule: contains needs either a value or a list of values, not neither']);
    expect(problemsOf(cond('deviceId', 'contains', { value: 'a', values: ['b'] }))).toEqual(['rule: contains needs either a value or a list of values, not both']);
    expect(problemsOf(cond('deviceId', 'contains', { value: '' }))).toEqual(['rule.value: contains needs a non-empty string']);
    expect(problemsOf(cond('attributes.beta', 'is_true', { value: true }))).toEqual(['rule.value: is_true takes no value']);
    expect(problemsOf(cond('attributes.x', 'exists', { values: [] }))).toEqual(['rule.values: exists takes no values']);
    expect(problemsOf(cond('sessionsLast7d', 'gt', { value: 1, caseInsensitive: true }))).toEqual([
      'rule.caseInsensitive: gt does not compare strings; caseInsensitive applies to eq, neq, in, not_in, starts_with, ends_with and contains',
    ]);
    expect(problemsOf({ ...cond('channel', 'eq', { value: 'a' }), caseInsensitive: 'yes' })).toEqual(['rule.caseInsensitive: must be a boolean']);
  });

  it('rejects invalid versions and ranges', () => {
    expect(problemsOf(cond('nativeVersion', 'semver_gte', { value: '3.2' }))).toEqual(['rule.value: semver_gte needs a semver version such as "2.4.0" (got "3.2")']);
    expect(problemsOf(cond('nativeVersion', 'semver_eq', { value: 3 }))).toEqual(['rule.value: semver_eq needs a semver version such as "2.4.0" (got 3)']);
    expect(problemsOf(cond('nativeVersion', 'semver_satisfies', { value: '>>3' }))).toEqual([
      'rule.value: semver_satisfies needs a semver range such as ">=2.4.0 <3.0.0" or "^2.4" (got ">>3")',
    ]);
    expect(problemsOf(cond('nativeVersion', 'semver_satisfies', { value: ' ' }))).toHaveLength(1);
  });

  it('catches comparisons a built-in attribute can never satisfy', () => {
    expect(problemsOf(cond('sessionsLast7d', 'starts_with', { value: '1' }))).toEqual(['rule.op: sessionsLast7d is a number; starts_with applies to strings']);
    expect(problemsOf(cond('channel', 'gte', { value: 1 }))).toEqual(['rule.op: channel is a string; gte compares numbers']);
    expect(problemsOf(cond('channel', 'semver_gt', { value: '1.0.0' }))).toEqual([
      'rule.op: channel is a string; semver_gt applies to versions (nativeVersion, bundleVersion or a custom attribute)',
    ]);
    expect(problemsOf(cond('platform', 'is_true'))).toEqual(['rule.op: platform is a string; is_true applies to boolean custom attributes']);
    expect(problemsOf(cond('daysSinceFirstSeen', 'eq', { value: '3' }))).toEqual(['rule.value: daysSinceFirstSeen is a number; compare it with numbers']);
    expect(problemsOf(cond('nativeVersion', 'in', { values: ['3.2', 3] }))).toEqual(['rule.values: nativeVersion is a version string; compare it with strings']);
  });

  it('rejects malformed nodes with their paths', () => {
    expect(problemsOf(null)).toEqual([expect.stringMatching(/^rule: must be an object/)]);
    expect(problemsOf({})).toEqual([expect.stringMatching(/^rule: must be exactly one of .*; found none$/)]);
    expect(problemsOf({ all: [], any: [] })).toEqual([expect.stringMatching(/found all and any$/)]);
    expect(problemsOf({ not: { always: true }, attribute: 'channel', op: 'exists' })).toEqual([expect.stringMatching(/found not and attribute\/op$/)]);
    expect(problemsOf({ all: {} })).toEqual(['rule.all: must be an array of rules']);
    expect(problemsOf({ always: 'yes' })).toEqual(['rule.always: must be true (the catch-all)']);
    expect(problemsOf({ any: [{ always: true, note: 'x' }] })).toEqual(['rule.any[0].note: unknown field "note"']);
    expect(problemsOf({ all: [{ not: cond('channel', 'eq', { value: 'a', valu: 1 } as Partial<RuleCondition>) }] })).toEqual([
      'rule.all[0].not.valu: unknown field "valu"',
    ]);
    expect(validateRule({ all: ['x'] }, 'segments[2].rule')).toEqual({
      ok: false,
      problems: [{ path: 'segments[2].rule.all[0]', message: expect.stringMatching(/^must be an object/) }],
    });
  });

  it('limits nesting to 8 levels', () => {
    const nested = (levels: number): SegmentRule => (levels === 1 ? { always: true } : { not: nested(levels - 1) });
    expect(problemsOf(nested(8))).toEqual([]);
    expect(problemsOf(nested(9))).toEqual(['rule.not.not.not.not.not.not.not.not: rules nest at most 8 levels deep']);
    expect(problemsOf({ all: [{ any: [nested(7)] }] })).toHaveLength(1);
  });

  it('limits a rule to 200 nodes', () => {
    const leaf = cond('channel', 'eq', { value: 'a' });
    expect(problemsOf({ any: Array.from({ length: 199 }, () => leaf) })).toEqual([]);
    expect(problemsOf({ any: Array.from({ length: 200 }, () => leaf) })).toEqual(['rule: a rule has at most 200 nodes (conditions and groups)']);
    expect(problemsOf({ any: Array.from({ length: 100_000 }, () => leaf) })).toEqual(['rule: a rule has at most 200 nodes (conditions and groups)']);
  });

  it('limits values to 1000', () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => `id-${i}`);
    expect(problemsOf(cond('deviceId', 'in', { values: values(1000) }))).toEqual([]);
    expect(problemsOf(cond('deviceId', 'in', { values: values(1001) }))).toEqual(['rule.values: at most 1000 values (got 1001)']);
  });
});

describe(compileSegments.name, () => {
  const segments: RankedSegment[] = [
    { key: 'default', priority: 1000, rule: { always: true } },
    { key: 'enterprise', priority: 20, rule: cond('attributes.plan', 'eq', { value: 'enterprise', caseInsensitive: true }) },
    { key: 'beta', priority: 10, rule: cond('channel', 'eq', { value: 'beta' }) },
    { key: 'power', priority: 20, rule: cond('sessionsLast7d', 'gte', { value: 10 }) },
    { key: 'new-users', priority: 30, rule: { any: [cond('daysSinceFirstSeen', 'lt', { value: 7 }), cond('daysSinceFirstSeen', 'not_exists')] } },
  ];
  const sut = compileSegments(segments);

  it('picks the first match by ascending priority, ties broken by key', () => {
    expect(sut(device({ channel: 'beta' }))).toBe('beta');
    expect(sut(device())).toBe('enterprise');
    expect(sut(device({ attributes: {} }))).toBe('power');
    expect(sut(device({ attributes: {}, sessionsLast7d: 1, daysSinceFirstSeen: 2 }))).toBe('new-users');
    expect(sut(unknownDevice)).toBe('new-users');
    expect(sut(device({ attributes: {}, sessionsLast7d: 1 }))).toBe('default');
  });

  it('falls back to the catch-all when nothing matches or there are no segments', () => {
    expect(compileSegments(segments.filter((s) => s.key !== 'default'))(device({ attributes: {}, sessionsLast7d: 1 }))).toBe('default');
    expect(compileSegments([])(device())).toBe('default');
  });

  it('does not depend on the order segments are listed in', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(segments, { minLength: segments.length }), (shuffled) => {
        const resolve = compileSegments(shuffled);
        return [device(), device({ channel: 'beta' }), device({ attributes: {} }), unknownDevice].every((ctx) => resolve(ctx) === sut(ctx));
      }),
    );
  });
});

describe(resolveSegment.name, () => {
  it('resolves like the compiled resolver and reuses it for the same list', () => {
    const segments: RankedSegment[] = [{ key: 'ios', priority: 1, rule: cond('platform', 'eq', { value: 'ios' }) }];
    expect(resolveSegment(segments, device())).toBe('ios');
    expect(resolveSegment(segments, device({ platform: 'android' }))).toBe('default');
    expect(resolveSegment([], device())).toBe('default');
  });
});
