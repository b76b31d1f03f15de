import type { Response } from 'express';

/** Rampart's own 429: the error shape of the API plus Retry-After, which every client library honours. */
export function rateLimited(res: Response, retryAfterSeconds: number, _appId?: string, message?: string): void {
  res
    .status(429)
    .set('retry-after', String(retryAfterSeconds))
    .json({ error: { code: 'rate_limited', message: message ?? `too many requests from this device; retry in ${retryAfterSeconds} s`, details: { retryAfterSeconds } } });
}
