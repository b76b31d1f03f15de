import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrayLiteral, col } from '../../db/columns';
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
});
