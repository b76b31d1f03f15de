const HOUR_MS = 3_600_000;

/** Numbers for findings: three significant digits, exponent notation only when they get extreme. */
export function formatNumber(x: number): string {
  const magnitude = Math.abs(x);
  if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3)) return x.toExponential(2);
  if (magnitude >= 1000) return Math.round(x).toString();
  return Number(x.toPrecision(3)).toString();
}

export function formatPercent(fraction: number): string {
  return `${formatNumber(fraction * 100)} %`;
}

export function formatHours(ms: number): string {
  return `${formatNumber(ms / HOUR_MS)} h`;
}
