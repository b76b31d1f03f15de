import express, { type RequestHandler } from 'express';

/** A body-parser client error as bodyClientError reads it (`status` and `type`). */
function bodyError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true, type });
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const OPENERS = new Set([0x7b, 0x5b]);
const isFastPathType = (type: string | undefined) => type === 'application/json' || type === 'application/json; charset=utf-8';

/**
 * `express.json({ limit })` for device routes, with less work for the request devices send: one
 * UTF-8 JSON document of a declared length within the limit, not compressed. Its bytes are read into
 * one buffer of that length and parsed, with express.json's strictness (an object or array; an empty
 * body is `{}`) and its error types. Every other request (compressed, chunked, too large, another
 * charset or type) goes to express.json itself, so every answer stays the one it gives.
 */
export function leanJson(limitBytes: number): RequestHandler {
  const full = express.json({ limit: limitBytes });
  return (req, res, next) => {
    const { headers } = req;
    const declared = headers['content-length'];
    if (!isFastPathType(headers['content-type']) || declared === undefined || headers['content-encoding'] !== undefined || headers['transfer-encoding'] !== undefined) {
      full(req, res, next);
      return;
    }
    // Node's parser has checked the header is a number and delivers exactly that many bytes, or fails.
    const length = Number(declared);
    if (length === 0 || length > limitBytes) {
      full(req, res, next);
      return;
    }
    const body = Buffer.allocUnsafe(length);
    let received = 0;
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      next(err);
    };
    req.on('data', (chunk: Buffer) => {
      received += chunk.copy(body, received);
    });
    req.on('error', () => settle(bodyError(400, 'request.aborted', 'request aborted')));
    req.on('close', () => {
      if (received < length) settle(bodyError(400, 'request.aborted', 'request aborted'));
    });
    req.on('end', () => {
      if (received < length) return settle(bodyError(400, 'request.aborted', 'request aborted'));
      // As express.json (iconv) reads UTF-8: a byte-order mark is not part of the text.
      const start = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
      let first = start;
      while (first < length && WHITESPACE.has(body[first]!)) first += 1;
      if (first === length) {
        req.body = {};
        return settle();
      }
      if (!OPENERS.has(body[first]!)) return settle(bodyError(400, 'entity.parse.failed', 'the body is not a JSON object or array'));
      try {
        req.body = JSON.parse(body.toString('utf8', start)) as unknown;
      } catch (err) {
        return settle(bodyError(400, 'entity.parse.failed', (err as Error).message));
      }
      settle();
    });
  };
}
