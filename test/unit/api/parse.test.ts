import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createReleaseSchema } from '../../../api/admin/schemas';
import { checkRequestSchema } from '../../../api/device/native-schemas';
import { closestName } from '../../../api/http/closest-name';
import { parse } from '../../../api/http/parse';
import { formatPath, quoteValue, valueAt } from '../../../api/http/problem-path';
import { ValidationError } from '../../../domain/errors/validation-error';

function problemsOf(schema: z.ZodType, input: unknown): string[] {
  try {
    parse(schema, input);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return (err.details as { problems: Array<{ path: string; message: string }> }).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a validation error');
}

describe(formatPath.name, () => {
  it.each([
    [[], '(root)'],
    [['plan', 'stages', 1, 'exposureBps'], 'plan.stages[1].exposureBps'],
    [['events', 0], 'events[0]'],
    [['attributes', 'app.build'], 'attributes["app.build"]'],
  ] as Array<[PropertyKey[], string]>)('%j → %s', (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });
});

describe(valueAt.name, () => {
  it('finds the value as sent by the issue path, and nothing where the input has nothing', () => {
    const input = { plan: { stages: [{ exposureBps: 1.5 }] } };
    expect(valueAt(input, ['plan', 'stages', 0, 'exposureBps'])).toBe(1.5);
    expect(valueAt(input, ['plan', 'stages', 1, 'exposureBps'])).toBeUndefined();
    expect(valueAt(input, ['plan', 'stages', 'length'])).toBeUndefined();
    expect(valueAt('fast', [])).toBe('fast');
  });
});

describe(quoteValue.name, () => {
  it('quotes short values as JSON and summarises long ones', () => {
    expect(quoteValue('fast')).toBe('"fast"');
    expect(quoteValue(1.5)).toBe('1.5');
    expect(quoteValue(null)).toBe('null');
    expect(quoteValue([1, 2])).toBe('[1,2]');
    expect(quoteValue('x'.repeat(5000))).toBe(`"${'x'.repeat(30)}…" (5000 characters)`);
    expect(quoteValue(Array.from({ length: 101 }, (_, i) => i))).toBe('an array of 101 items');
    expect(quoteValue(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, i])))).toBe('an object with 51 fields');
  });
});

describe(closestName.name, () => {
  const stageFields = ['name', 'segments', 'exposureBps', 'minSoakMs', 'maxSoakMs', 'checkIntervalMs', 'gates'];
  it.each([
    ['exposure', 'exposureBps'],
    ['minSoak', 'minSoakMs'],
    ['segment', 'segments'],
    ['checkintervalms', 'checkIntervalMs'],
    ['gate', 'gates'],
    ['colour', undefined],
  ])('%s → %s', (name, expected) => {
    expect(closestName(name, stageFields)).toBe(expected);
  });
});

describe(parse.name, () => {
  const release = { version: '1.0.0' };

  it('says how to send a body when there is none', () => {
    expect(() => parse(createReleaseSchema, undefined)).toThrow(
      'the request has no JSON body; send {version, channel?, plan?, timeScale?, supersede?, force?, segmentBundles?, notifications?} with content-type: application/json',
    );
  });

  it('names each field as written, quotes the value sent and says "required" for a missing one', () => {
    expect(problemsOf(createReleaseSchema, { timeScale: 1.5e3, supersede: 'yes' })).toEqual([
      'version: required',
      'timeScale: must be at most 100 (got 1500)',
      'supersede: must be a boolean (got "yes")',
    ]);
  });

  it('takes a string plan as a preset name, from the presets the domain knows', () => {
    expect(problemsOf(createReleaseSchema, { ...release, plan: 'fast' })).toEqual([
      'plan: unknown preset; use one of default, apple-phased or a plan object {stages: [...]} (got "fast")',
    ]);
    expect(parse(createReleaseSchema, { ...release, plan: 'apple-phased' }).plan).toBe('apple-phased');
  });

  it('takes an object plan as a plan and reports its own issues with their paths', () => {
    const plan = { stages: [{ exposure: 10_000, minSoakMs: 0 }, { exposureBps: 1.5, minSoakMs: 'fast', gates: [{ kind: 'bayes' }] }] };
    expect(problemsOf(createReleaseSchema, { ...release, plan })).toEqual([
      'plan.stages[0].exposureBps: required',
      'plan.stages[0].exposure: unknown field "exposure" (did you mean "exposureBps"?)',
      'plan.stages[1].exposureBps: must be an integer (got 1.5)',
      'plan.stages[1].minSoakMs: must be a number (got "fast")',
      'plan.stages[1].gates[0].kind: must be one of ratio, tripwire, crashRate, threshold (got "bayes")',
    ]);
  });

  it('explains both accepted shapes when the plan is neither a string nor an object', () => {
    for (const plan of [[{ exposureBps: 10_000 }], 7, null]) {
      expect(problemsOf(createReleaseSchema, { ...release, plan })).toEqual([
        `plan: must be a preset name (default, apple-phased) or a plan object {stages: [...]} (got ${JSON.stringify(plan)})`,
      ]);
    }
  });

  it('lists the accepted fields when an unknown one resembles none', () => {
    expect(problemsOf(z.strictObject({ name: z.string(), rule: z.string().optional() }), { name: 'x', colour: 'red' })).toEqual([
      'colour: unknown field "colour"; accepted: name, rule',
    ]);
  });

  it('refuses a native version that reads as none, and keeps the ones stores use', () => {
    const device = { deviceId: 'dev-1', platform: 'ios', bundleVersion: 'builtin' };
    expect(problemsOf(checkRequestSchema, { ...device, nativeVersion: 'three' })).toEqual(['nativeVersion: must be a version such as 3.1.0 or 3.1 (got "three")']);
    expect(problemsOf(checkRequestSchema, { ...device, nativeVersion: 3 })).toEqual(['nativeVersion: must be a version such as 3.1.0 or 3.1 (got 3)']);
    for (const nativeVersion of ['3.1', '3.1.0', '3.2 (417)', '1.2.3-beta.1']) {
      expect(parse(checkRequestSchema, { ...device, nativeVersion }).nativeVersion).toBe(nativeVersion);
    }
  });

  it('names a refused attribute by its key without quoting its value', () => {
    const device = { deviceId: 'dev-1', platform: 'ios', nativeVersion: '3.1', bundleVersion: 'builtin' };
    expect(problemsOf(checkRequestSchema, { ...device, attributes: { 'a b': 1, tier: { gold: true } } })).toEqual([
      'attributes["a b"]: invalid name (attribute names: letters, digits, "_", "." and "-")',
      'attributes.tier: must be a string, a number or a boolean (got {"gold":true})',
    ]);
  });
});
