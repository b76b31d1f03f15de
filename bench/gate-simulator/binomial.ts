import type { Rng } from '../../scripts/support/prng';

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Below this mean, inverting the CDF from zero is cheapest (and monotone in p for a fixed uniform). */
const SMALL_MEAN = 20;

/**
 * One draw of Binomial(n, p) from a single uniform. Exact: it inverts the CDF, from zero for small
 * means, otherwise over the support ordered outward from the mode (Kemp's modal search), which
 * costs O(√(np)) steps instead of O(np) — the fleet has slices of 250 000 devices. p outside
 * (0, 1) saturates to 0 or n, so callers may pass a rate scaled past 1 without clamping it.
 */
export function binomial(rng: Rng, n: number, p: number): number {
  if (!(n >= 1) || !(p > 0)) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  const u = rng.next();
  return n * p < SMALL_MEAN ? inverseFromZero(u, n, p) : modalSearch(u, n, p);
}

function inverseFromZero(u: number, n: number, p: number): number {
  const ratio = p / (1 - p);
  let k = 0;
  let pmf = Math.exp(n * Math.log1p(-p));
  let left = u - pmf;
  while (left >= 0 && k < n) {
    pmf *= ((n - k) / (k + 1)) * ratio;
    k += 1;
    left -= pmf;
  }
  return k;
}

function modalSearch(u: number, n: number, p: number): number {
  const ratio = p / (1 - p);
  const mode = Math.floor((n + 1) * p);
  const pmfMode = binomialPmf(mode, n, p);
  let left = u - pmfMode;
  if (left < 0) return mode;
  let lo = mode;
  let hi = mode;
  let pmfLo = pmfMode;
  let pmfHi = pmfMode;
  for (;;) {
    const canUp = hi < n;
    const canDown = lo > 0;
    if (!canUp && !canDown) return mode; // rounding left a sliver of probability unassigned
    if (canUp) {
      pmfHi *= ((n - hi) / (hi + 1)) * ratio;
      hi += 1;
      left -= pmfHi;
      if (left < 0) return hi;
    }
    if (canDown) {
      pmfLo *= lo / ((n - lo + 1) * ratio);
      lo -= 1;
      left -= pmfLo;
      if (left < 0) return lo;
    }
  }
}

/**
 * P(X = x) for X ~ Binomial(n, p), by Loader's saddle-point expansion ("Fast and accurate
 * computation of binomial probabilities", 2000): accurate to near machine precision where the naive
 * log-factorial formula would lose half its digits to cancellation at n in the hundreds of thousands.
 */
export function binomialPmf(x: number, n: number, p: number): number {
  if (x < 0 || x > n || !Number.isInteger(x)) return 0;
  const q = 1 - p;
  if (x === 0) return Math.exp(n * Math.log1p(-p));
  if (x === n) return Math.exp(n * Math.log(p));
  const lc = stirlingError(n) - stirlingError(x) - stirlingError(n - x) - deviance(x, n * p) - deviance(n - x, n * q);
  const lf = Math.log(2 * Math.PI) + Math.log(x) + Math.log1p(-x / n);
  return Math.exp(lc - 0.5 * lf);
}

/** ln(n!) − [(n + ½)·ln n − n + ln √(2π)], the error of Stirling's formula, for integers n ≥ 1. */
export function stirlingError(n: number): number {
  if (n <= 15) {
    let logFactorial = 0;
    for (let k = 2; k <= n; k++) logFactorial += Math.log(k);
    return logFactorial - (n + 0.5) * Math.log(n) + n - LN_SQRT_2PI;
  }
  const nn = n * n;
  const s0 = 1 / 12;
  const s1 = 1 / 360;
  const s2 = 1 / 1260;
  const s3 = 1 / 1680;
  const s4 = 1 / 1188;
  if (n > 500) return (s0 - s1 / nn) / n;
  if (n > 80) return (s0 - (s1 - s2 / nn) / nn) / n;
  if (n > 35) return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
  return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/** x·ln(x/μ) + μ − x, by its series when x ≈ μ (where the direct form cancels). */
function deviance(x: number, mu: number): number {
  if (Math.abs(x - mu) < 0.1 * (x + mu)) {
    const v = (x - mu) / (x + mu);
    const v2 = v * v;
    let sum = (x - mu) * v;
    let term = 2 * x * v;
    for (let j = 1; j < 1000; j++) {
      term *= v2;
      const next = sum + term / (2 * j + 1);
      if (next === sum) return next;
      sum = next;
    }
    return sum;
  }
  return x * Math.log(x / mu) + mu - x;
}
