import { mixtureHalfWidth, mixturePValue } from './normal-mixture-boundary';

/**
 * An always-valid (1 − α) confidence sequence of treatment − control, valid under continuous
 * peeking. `relative*` is the change relative to the control mean, by the delta method on the
 * ratio of means with the same mixture boundary (null while the control mean is 0). `pValue` is
 * the always-valid p-value of "no difference" and is ≤ α exactly when [lower, upper] excludes 0.
 * While an arm has too few units to estimate a variance the interval is uninformative: infinite
 * bounds (JSON turns them into null), p-value 1.
 */
export interface SequentialInterval {
  estimate: number;
  lower: number;
  upper: number;
  relativeEstimate: number | null;
  relativeLower: number | null;
  relativeUpper: number | null;
  pValue: number;
}

/** Each arm's mean of the metric and the variance of that mean (σ²/n). */
export interface ArmMoments {
  n: number;
  mean: number;
  varianceOfMean: number;
}

export function uninformativeInterval(estimate: number): SequentialInterval {
  return { estimate, lower: -Infinity, upper: Infinity, relativeEstimate: null, relativeLower: null, relativeUpper: null, pValue: 1 };
}

/**
 * The difference of two arms' means with the normal-mixture boundary, on n = both arms' units
 * (GrowthBook's GAVI convention), and the relative change with Var(m_t/m_c) ≈ V_t/m_c² +
 * m_t²·V_c/m_c⁴.
 */
export function sequentialInterval(treatment: ArmMoments, control: ArmMoments, alpha: number, tuning: number): SequentialInterval {
  const n = treatment.n + control.n;
  const estimate = treatment.mean - control.mean;
  const variance = treatment.varianceOfMean + control.varianceOfMean;
  const half = mixtureHalfWidth(variance, n, alpha, tuning);
  const pValue = mixturePValue(estimate, variance, n, alpha, tuning);
  const absolute = { estimate, lower: estimate - half, upper: estimate + half, pValue };
  if (control.mean === 0) return { ...absolute, relativeEstimate: null, relativeLower: null, relativeUpper: null };
  const relativeEstimate = treatment.mean / control.mean - 1;
  const mc2 = control.mean * control.mean;
  const relativeVariance = treatment.varianceOfMean / mc2 + (treatment.mean * treatment.mean * control.varianceOfMean) / (mc2 * mc2);
  const relativeHalf = mixtureHalfWidth(relativeVariance, n, alpha, tuning);
  return { ...absolute, relativeEstimate, relativeLower: relativeEstimate - relativeHalf, relativeUpper: relativeEstimate + relativeHalf };
}
