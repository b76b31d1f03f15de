import type { ApiError } from './rampart-client';

// The API speaks to HTTP callers ("send \"supersede\": true"); a CLI user needs the flag instead.
const API_SUPERSEDE_HINT = /[,;]?\s*(?:or\s+)?[^,;]*"supersede":\s*true[^,;]*/;
const API_FORCE_HINT = /"force": true \(CLI: --force\)/;

/** The lines to print for an API error, with the API's hints translated into CLI terms. */
export function explainApiError(err: ApiError): string[] {
  const where = `(${err.code}${err.status ? `, HTTP ${err.status}` : ''})`;
  if (err.code === 'release_active') {
    return [`${err.message.replace(API_SUPERSEDE_HINT, '')} ${where}`, 'to abort it and start this one instead, re-run the command with --supersede'];
  }
  if (err.code === 'version_rolled_back') return [`${err.message.replace(API_FORCE_HINT, '--force')} ${where}`];
  if (err.code === 'unreachable') return [`${err.message} ${where}`, 'is Rampart running (npm start)? RAMPART_URL says where it listens'];
  if (err.status === 401) return [`${err.message} ${where}`, 'set RAMPART_API_KEY to a valid admin API key'];
  return [`${err.message} ${where}`];
}
