const SQRT_PI = Math.sqrt(Math.PI);
const EPSILON = 1e-16;
const TINY = 1e-300;
const MAX_TERMS = 500;

/**
 * Complementary error function to near machine precision, including the far tail that the
 * sample-ratio check needs (1 − erf(x) would cancel to 0 long before p = 0.001 matters).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  return x < 1.5 ? 1 - erfSeries(x) : erfcContinuedFraction(x);
}

// erf(x) = 2/√π · e^(−x²) · Σ (2x²)ⁿ x / (1·3·…·(2n+1)): every term is positive, so unlike the
// alternating Taylor series nothing cancels.
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < MAX_TERMS && term > sum * EPSILON; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return (2 / SQRT_PI) * Math.exp(-x2) * sum;
}

// erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated with the modified
// Lentz algorithm in its even form (Numerical Recipes' incomplete-gamma fraction with a = 1/2).
function erfcContinuedFraction(x: number): number {
  const x2 = x * x;
  let b = x2 + 0.5;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_TERMS; i++) {
    const an = -i * (i - 0.5);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return (Math.exp(-x2) * x * h) / SQRT_PI;
}
