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

/**
 * SQLSTATEs that say the server cannot serve right now, not that the request is wrong: class 08
 * (connection exception), 53300 (too many connections), 57P01–57P03 (shutting down, crashed, not yet
 * accepting connections) and 57014 (cancelled by `statement_timeout`).
 */
const UNAVAILABLE_SQLSTATES = new Set(['53300', '57P01', '57P02', '57P03', '57014']);
/** Socket errors of the connection to PostgreSQL. */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * node-postgres raises plain Errors without a code for a lost connection and for its own timeouts
 * (pool connect, query read): only their text identifies them.
 */
const PG_CLIENT_FAILURES = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error)/;

/** PostgreSQL cannot be reached or cannot answer in time: the request may succeed later. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as Error & { code?: unknown }).code;
  if (typeof code === 'string') return code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || SOCKET_ERRORS.has(code);
  return PG_CLIENT_FAILURES.test(err.message);
}
