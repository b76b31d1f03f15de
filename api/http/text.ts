import { z } from 'zod';

/**
 * Control characters (U+0000–U+001F, U+007F) in a device's or an admin's string are never meant:
 * PostgreSQL refuses U+0000 outright (failing every write it shares a statement with), and the others
 * break logs, labels and the dashboard. Refused at the edge, naming the field.
 */
// eslint-disable-next-line no-control-regex -- finding them is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
/** Free text (messages, notes, stack traces) keeps its tabs and line breaks, and nothing else. */
// eslint-disable-next-line no-control-regex -- finding them is the point
const CONTROL_CHARACTERS_BUT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const NO_CONTROL_CHARACTERS = 'must not contain control characters (U+0000–U+001F, U+007F)';
export const NO_CONTROL_CHARACTERS_BUT_LINE_BREAKS = 'must not contain control characters other than tab and line breaks';

export const isPlainText = (s: string): boolean => !CONTROL_CHARACTERS.test(s);
export const isMultilineText = (s: string): boolean => !CONTROL_CHARACTERS_BUT_LINE_BREAKS.test(s);

/** Every string field of the device and admin schemas starts here (or adds `plainText` to a format). */
export const text = () => z.string().refine(isPlainText, NO_CONTROL_CHARACTERS);

/** Free text that may span lines. */
export const multilineText = () => z.string().refine(isMultilineText, NO_CONTROL_CHARACTERS_BUT_LINE_BREAKS);

/** For string formats (`z.url()`): they accept control characters that the URL parser would encode. */
export const plainText = [isPlainText, NO_CONTROL_CHARACTERS] as const;

/** Deeper JSON than this is no rule or window anyone writes; the walk below stays bounded. */
export const MAX_JSON_DEPTH = 32;

/** Why free-form JSON (segment rules, windows) cannot be stored and matched, or null when it can. */
export function jsonProblem(value: unknown): string | null {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (!isPlainText(v)) return NO_CONTROL_CHARACTERS;
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_JSON_DEPTH) return `must not be nested more than ${MAX_JSON_DEPTH} levels deep`;
    for (const [key, item] of Object.entries(v)) {
      if (!isPlainText(key)) return NO_CONTROL_CHARACTERS;
      stack.push({ value: item, depth: depth + 1 });
    }
  }
  return null;
}

/** Free-form JSON checked for what PostgreSQL and the matchers cannot take; its structure is the domain's to check. */
export const json = () =>
  z.unknown().superRefine((value, ctx) => {
    const problem = jsonProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
