import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrayLiteral, col, nestedArrayLiteral } from '../../db/columns';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe(arrayLiteral.name, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('reaches PostgreSQL as the array it was, whatever the strings hold', async () => {
    const awkward = ['', 'NULL', 'null', ' spaced ', 'a,b', '{braces}', 'quote"d', 'back\\slash', '\\"', 'ünï ☃', 'tab\tnew\nline', '"'];
    const { rows } = await db.pool.query<{ back: Array<string | null> }>('SELECT $1::text[] AS back', [arrayLiteral([...awkward, null])]);
    expect(rows[0]!.back).toEqual([...awkward, null]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.string({ unit: 'grapheme' }).map((s) => s.replaceAll('\u0000', '')), { nil: null }), { maxLength: 20 }), async (values) => {
        const back = await db.pool.query<{ back: Array<string | null> }>('SELECT $1::text[] AS back', [arrayLiteral(values)]);
        expect(back.rows[0]!.back).toEqual(values);
      }),
      { numRuns: 200 },
    );
  });

  it('sends numbers, booleans and instants as their types read them', async () => {
    const at = new Date(Date.UTC(2026, 11, 3, 23, 30, 0, 123));
    const { rows } = await db.pool.query<{ n: number[]; f: number[]; b: boolean[]; t: Date[]; d: string[] }>(
      'SELECT $1::int[] AS n, $2::float8[] AS f, $3::boolean[] AS b, $4::timestamptz[] AS t, $5::date[]::text[] AS d',
      [arrayLiteral([0, -7, 2_147_483_647, null]), arrayLiteral([0.1, -2.5e-7, 1e21]), arrayLiteral([true, false, null]), arrayLiteral([at, null]), arrayLiteral(['2026-12-03'])],
    );
    expect(rows[0]).toEqual({ n: [0, -7, 2_147_483_647, null], f: [0.1, -2.5e-7, 1e21], b: [true, false, null], t: [at, null], d: ['2026-12-03'] });
  });

  it('takes one column of rows, undefined as NULL', () => {
    expect(col([{ id: 'a', n: 1 }, { id: 'b"', n: undefined }], 'id')).toBe('{"a","b\\""}');
    expect(col([{ id: 'a', n: 1 }, { id: 'b', n: undefined }], 'n')).toBe('{1,NULL}');
    expect(arrayLiteral([])).toBe('{}');
  });

  it('nests arrays: each element of the outer literal casts back to the array it was', async () => {
    const awkward = ['', 'NULL', 'a,b', '{braces}', 'quote"d', 'back\\slash', '\\"', '"', 'ünï ☃', 'tab\tnew\nline'];
    const text = fc.option(fc.oneof(fc.constantFrom(...awkward), fc.string({ unit: 'grapheme' }).map((s) => s.replaceAll('\u0000', ''))), { nil: null });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(text, { maxLength: 5 }), { maxLength: 6 }), async (groups) => {
        const literal = nestedArrayLiteral(groups, (v) => v);
        expect(literal).toBe(arrayLiteral(groups.map((g) => arrayLiteral(g))));
        const { rows } = await db.pool.query<{ back: Array<Array<string | null>> }>(
          'SELECT coalesce(array_agg(to_jsonb(u.x::text[]) ORDER BY u.i), ARRAY[]::jsonb[]) AS back FROM unnest($1::text[]) WITH ORDINALITY AS u(x, i)',
          [literal],
        );
        expect(rows[0]!.back).toEqual(groups);
      }),
      { numRuns: 200 },
    );
    const at = new Date(Date.UTC(2026, 11, 3, 23, 30, 0, 123));
    const { rows } = await db.pool.query<{ t: Date[]; n: number[] }>('SELECT ($1::text[])[1]::timestamptz[] AS t, ($2::text[])[1]::int[] AS n', [
      nestedArrayLiteral([[at, null]], (v) => v),
      nestedArrayLiteral([[7, null]], (v) => v),
    ]);
    expect(rows[0]).toEqual({ t: [at, null], n: [7, null] });
  });
});
