/** The response structures of Expo Updates v1, in the order preferred when a client weighs them alike. */
export const EXPO_RESPONSE_TYPES = ['multipart/mixed', 'application/expo+json', 'application/json'] as const;
export type ExpoResponseType = (typeof EXPO_RESPONSE_TYPES)[number];

interface Range {
  type: string;
  q: number;
}

function parseRanges(accept: string): Range[] {
  return accept.split(',').flatMap((entry) => {
    const [mediaRange, ...params] = entry.split(';').map((s) => s.trim().toLowerCase());
    if (!mediaRange) return [];
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=').map((s) => s.trim());
      if (name === 'q') q = value !== undefined && /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value) ? Number(value) : 0;
    }
    return [{ type: mediaRange, q }];
  });
}

function weightOf(ranges: Range[], type: ExpoResponseType): number {
  const [major] = type.split('/');
  // The most specific range that names the type decides (RFC 7231 §5.3.2).
  const exact = ranges.find((r) => r.type === type);
  if (exact) return exact.q;
  const partial = ranges.find((r) => r.type === `${major}/*`);
  if (partial) return partial.q;
  return ranges.find((r) => r.type === '*/*')?.q ?? 0;
}

/**
 * Proactive negotiation (RFC 7231 §3.4.1) between the structures the spec defines: the acceptable one
 * the client weighs highest, multipart first among equals because only it carries directives. No
 * `accept` header accepts anything. Null: nothing acceptable (406).
 */
export function negotiateExpoResponse(accept: string | undefined): ExpoResponseType | null {
  if (accept === undefined || accept.trim() === '') return EXPO_RESPONSE_TYPES[0];
  const ranges = parseRanges(accept);
  let best: ExpoResponseType | null = null;
  let bestWeight = 0;
  for (const type of EXPO_RESPONSE_TYPES) {
    const weight = weightOf(ranges, type);
    if (weight > bestWeight) {
      best = type;
      bestWeight = weight;
    }
  }
  return best;
}
