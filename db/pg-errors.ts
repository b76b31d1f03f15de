export const UNIQUE_VIOLATION = '23505';

export function isPgError(err: unknown, code: string): err is { code: string; constraint?: string } {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/**
 * SQLSTATE class 22 (data exception: U+0000 in text, a value out of range, malformed JSON…): the
 * request's own data was refused, so the request is at fault, not the server.
 */
export function isDataException(err: unknown): err is Error & { code: string } {
  const code: unknown = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('22');
}
