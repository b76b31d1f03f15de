import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Express } from 'express';

/**
 * The HTTP server of an Express app whose requests and responses are born with the app's
 * prototypes. Express gives every request and response they take their prototypes with
 * `Object.setPrototypeOf` (app.handle); after that V8 keeps each request's objects alive past the
 * next scavenge, which then promotes them to the old generation: with an Express route answering
 * 2,000 requests/s, scavenges every ~150 ms took 5–10 ms and promoted ~4 MB each, and mark-compacts
 * followed every few seconds — the device path's tail and a fifth of its CPU (BENCHMARKS.md, "The
 * prototype switch"). Made by classes whose prototypes Express then sets on them, the objects keep
 * their shape: `setPrototypeOf` to the prototype an object already has changes nothing.
 */
export function createHttpServer(app: Express): Server {
  class AppRequest extends IncomingMessage {}
  class AppResponse extends ServerResponse {}
  // app.request and app.response stay in each chain, so what Express and middleware put on them is still found.
  Object.setPrototypeOf(AppRequest.prototype, app.request);
  Object.setPrototypeOf(AppResponse.prototype, app.response);
  app.request = AppRequest.prototype as unknown as Express['request'];
  app.response = AppResponse.prototype as unknown as Express['response'];
  return createServer({ IncomingMessage: AppRequest, ServerResponse: AppResponse }, app);
}
