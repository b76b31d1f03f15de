/** How a body-parser client error is answered, in Rampart's shape and in Capgo's (the status is body-parser's own). */
export interface BodyError {
  status: number;
  code: string;
  message: string;
  /** The plugin reads `error` from any non-2xx answer, so Capgo endpoints answer in Capgo's shape. */
  capgo: { error: string; message: string };
}

/** Capgo's answer to a body it cannot read, for body-parser errors without an entry of their own. */
export const CAPGO_UNREADABLE_BODY = { error: 'invalid_json_body', message: 'Cannot parse body' };

/** Keyed by body-parser's error `type`. */
const BODY_ERRORS: Record<string, BodyError> = {
  'entity.parse.failed': {
    status: 400,
    code: 'invalid_json',
    message: 'the body is not valid JSON',
    capgo: { error: 'invalid_json_parse_body', message: 'Invalid JSON body' },
  },
  'entity.too.large': {
    status: 413,
    code: 'body_too_large',
    message: 'the body is larger than this endpoint accepts',
    capgo: { error: 'body_too_large', message: 'Request body is larger than this endpoint accepts' },
  },
  'encoding.unsupported': {
    status: 415,
    code: 'unsupported_encoding',
    message: 'unsupported content encoding',
    capgo: { error: 'unsupported_encoding', message: 'Unsupported content encoding' },
  },
  'charset.unsupported': {
    status: 415,
    code: 'unsupported_charset',
    message: 'unsupported charset; send UTF-8',
    capgo: { error: 'unsupported_charset', message: 'Unsupported charset; send UTF-8' },
  },
  'request.aborted': { status: 400, code: 'request_aborted', message: 'the request was aborted', capgo: CAPGO_UNREADABLE_BODY },
};

/**
 * A client error of a body parser (bad JSON, too large, bad encoding) with how to answer it; null for
 * anything else, which the error handler treats as a failure of ours.
 */
export function bodyClientError(err: unknown): { status: number; known: BodyError | undefined } | null {
  if (typeof err !== 'object' || err === null) return null;
  const { status, type } = err as { status?: unknown; type?: unknown };
  if (typeof type !== 'string' || typeof status !== 'number') return null;
  const known = BODY_ERRORS[type];
  const answer = known?.status ?? status;
  return answer >= 400 && answer < 500 ? { status: answer, known } : null;
}
