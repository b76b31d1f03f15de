import { UsageError } from './command-context';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A time given as ISO 8601 or as a span from now ("30m", "24h", "7d"): `direction` -1 counts back
 * (`--since 24h`), +1 forward (`--expires 90d`). Answers ISO 8601, as the API takes it.
 */
export function timeOption(text: string, name: string, direction: 1 | -1, now = Date.now()): string {
  const span = /^(\d+)([mhd])$/.exec(text);
  if (span) return new Date(now + direction * Number(span[1]) * UNIT_MS[span[2]!]!).toISOString();
  const at = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(at)) return new Date(at).toISOString();
  throw new UsageError(`--${name} takes a time (2030-01-31T00:00:00Z) or a span such as 30m, 24h or 7d; got "${text}"`);
}
