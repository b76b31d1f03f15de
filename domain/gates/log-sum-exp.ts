/**
 * ln Σ exp(vᵢ) without overflow: shifting by the maximum keeps every exponent ≤ 0, so a mixture of
 * log-likelihood ratios in the thousands (a crash loop on a large canary) stays finite.
 */
export function logSumExp(values: readonly number[]): number {
  if (values.length === 0) return -Infinity;
  const max = Math.max(...values);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}
