/** Where a problem is and what was sent there, written the way a caller reads their own JSON. */

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const MAX_QUOTE_LENGTH = 60;

/** `stages[1].exposureBps`; keys that are not identifiers (attribute names may hold dots) in brackets. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(root)' : out;
}

/** The value as sent at a path, or undefined where the input has nothing. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    if (Array.isArray(value) && typeof key !== 'number') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** A value as the caller wrote it, short enough for one line of an error message. */
export function quoteValue(value: unknown): string {
  const json = serialize(value);
  if (json !== '' && json.length <= MAX_QUOTE_LENGTH) return json;
  if (typeof value === 'string') return `${JSON.stringify(`${value.slice(0, MAX_QUOTE_LENGTH / 2)}…`)} (${value.length} characters)`;
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  if (typeof value === 'object' && value !== null) return `an object with ${Object.keys(value).length} fields`;
  return `${json.slice(0, MAX_QUOTE_LENGTH)}…`;
}

/** Anything JSON.parse built, JSON.stringify can overflow the stack on: a body nested 100k levels deep. */
function serialize(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return '';
  }
}
