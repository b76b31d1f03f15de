const UNITS = [
  { name: 'd', ms: 86_400_000 },
  { name: 'h', ms: 3_600_000 },
  { name: 'm', ms: 60_000 },
  { name: 's', ms: 1000 },
] as const;

/**
 * A duration as a person reads it at a glance: the two largest units ("2 m 10 s", "1 d 4 h"),
 * whole numbers only, rounded down so a countdown never claims more time than is left.
 * Under a second it says milliseconds, which is where `--time-scale` test plans live.
 */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms));
  if (total < 1000) return `${total} ms`;
  const largest = UNITS.findIndex((u) => total >= u.ms);
  const parts: string[] = [];
  let left = total;
  for (const unit of UNITS.slice(largest, largest + 2)) {
    const count = Math.floor(left / unit.ms);
    left -= count * unit.ms;
    if (count > 0) parts.push(`${count} ${unit.name}`);
  }
  return parts.join(' ');
}
