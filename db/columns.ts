/** A value one element of an `unnest` array parameter can hold. */
export type ColumnValue = string | number | boolean | Date | null | undefined;

const NEEDS_ESCAPE = /["\\]/;
const escapeForLiteral = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

function element(value: NonNullable<ColumnValue>): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : value.toISOString();
  // Quoted whatever it holds: an empty string, NULL, braces, commas and spaces all stay text.
  return NEEDS_ESCAPE.test(text) ? `"${escapeForLiteral(text)}"` : `"${text}"`;
}

/**
 * A flat array as PostgreSQL's array literal (`{"a",NULL,"b"}`), which a `$n::type[]` parameter
 * takes as it takes the array. pg would send the same literal for a JS array with more work per
 * element (a Date formatted field by field in local time, two regular-expression replacements for
 * every element, numbers included); a batch of thousands of rows pays that on the event loop.
 */
export function arrayLiteral(values: readonly ColumnValue[]): string {
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) literal += ',';
    const value = values[i];
    literal += value === null || value === undefined ? 'NULL' : element(value);
  }
  return `${literal}}`;
}

/** One column of a batch of rows, as `unnest` takes it: one array parameter per column. */
export function col<T extends { [P in K]: ColumnValue }, K extends keyof T>(rows: readonly T[], key: K): string {
  return arrayLiteral(rows.map((r) => r[key]));
}

/** An element of an array literal that is itself an element of another: escaped for the inner literal, then for the outer. */
function nestedElement(value: ColumnValue): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : value.toISOString();
  return NEEDS_ESCAPE.test(text) ? `\\"${escapeForLiteral(escapeForLiteral(text))}\\"` : `\\"${text}\\"`;
}

/**
 * Arrays as one array literal of their literals (`{"{\"a\",NULL}","{\"b\"}"}`): a `$n::text[]`
 * parameter whose elements cast to arrays (`u.x::int[]`), one per row of an `unnest`. The same as
 * `arrayLiteral(arrays.map(arrayLiteral))`, written once instead of escaped twice.
 */
export function nestedArrayLiteral<T>(groups: readonly (readonly T[])[], value: (item: T) => ColumnValue): string {
  let literal = '{';
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    literal += g > 0 ? ',"{' : '"{';
    for (let i = 0; i < group.length; i++) {
      if (i > 0) literal += ',';
      literal += nestedElement(value(group[i]!));
    }
    literal += '}"';
  }
  return `${literal}}`;
}
