/** How operators read in a sentence; others read as their name with spaces. */
const OPERATOR_WORDS: Record<string, string> = { eq: '=', neq: '≠', lt: '<', lte: '≤', gt: '>', gte: '≥' };

/** A segment rule as a sentence: `platform is ios and not (attributes.beta is true)`. */
export function describeRule(rule: unknown): string {
  if (typeof rule !== 'object' || rule === null) return JSON.stringify(rule);
  const r = rule as Record<string, unknown>;
  if (r.always === true) return 'every device';
  if (Array.isArray(r.all)) return r.all.map((x) => `(${describeRule(x)})`).join(' and ');
  if (Array.isArray(r.any)) return r.any.map((x) => `(${describeRule(x)})`).join(' or ');
  if ('not' in r) return `not (${describeRule(r.not)})`;
  if (typeof r.attribute === 'string' && typeof r.op === 'string') {
    const operand = Array.isArray(r.values) ? ` [${r.values.join(', ')}]` : r.value === undefined ? '' : ` ${JSON.stringify(r.value)}`;
    return `${r.attribute} ${OPERATOR_WORDS[r.op] ?? r.op.replace(/_/g, ' ')}${operand}${r.caseInsensitive ? ' (any case)' : ''}`;
  }
  return JSON.stringify(rule);
}
