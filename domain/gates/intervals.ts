/** Two-sided 95 % normal quantile. */
export const Z_95 = 1.959963984540054;

export type Interval = [number, number];

/** Wilson score interval for x events in n trials; null without trials. */
export function wilsonInterval(x: number, n: number, z: number = Z_95): Interval | null {
  if (n <= 0) return null;
  const p = x / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0 or n events the bounds are exactly 0 or 1; rounding would otherwise leave ±1e-19.
  return [x <= 0 ? 0 : centre - half, x >= n ? 1 : centre + half];
}

/**
 * Newcombe's hybrid score interval (his method 10) for p₁ − p₂: it combines the two Wilson
 * intervals, so it behaves at zero events where the Wald interval collapses.
 */
export function newcombeInterval(x1: number, n1: number, x2: number, n2: number, z: number = Z_95): Interval | null {
  const w1 = wilsonInterval(x1, n1, z);
  const w2 = wilsonInterval(x2, n2, z);
  if (w1 === null || w2 === null) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const d = p1 - p2;
  return [d - Math.hypot(p1 - w1[0], w2[1] - p2), d + Math.hypot(w1[1] - p1, p2 - w2[0])];
}

/** Katz log interval for the ratio (x₁/n₁)/(x₂/n₂); null when either side has no events. */
export function katzInterval(x1: number, n1: number, x2: number, n2: number, z: number = Z_95): Interval | null {
  if (x1 <= 0 || x2 <= 0 || n1 <= 0 || n2 <= 0) return null;
  const logRatio = Math.log(x1 / n1 / (x2 / n2));
  const se = Math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2);
  return [Math.exp(logRatio - z * se), Math.exp(logRatio + z * se)];
}
