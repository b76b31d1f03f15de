import type { Rng } from '../../scripts/support/prng';

/**
 * One standard normal draw by the Box–Muller transform (one of the pair is thrown away: the
 * simulator's streams are cheap, and keeping no cached half makes every draw a pure function of
 * the stream's position).
 */
export function standardNormal(rng: Rng): number {
  // 1 − u lies in (0, 1], so the logarithm is finite.
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A log-normal draw with the given mean and log-scale σ: session durations are right-skewed
 * with a long tail, and σ = 1 gives a coefficient of variation of √(e − 1) ≈ 1.31.
 */
export function logNormal(rng: Rng, mean: number, sigma: number): number {
  return mean * Math.exp(sigma * standardNormal(rng) - (sigma * sigma) / 2);
}
