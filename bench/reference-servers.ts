import { createServer } from 'node:http';
import express from 'express';
import { createHttpServer } from '../api/http/create-http-server';

/*
 * The ceilings Rampart's device endpoints are measured against, each answering every POST with the
 * same fixed JSON as a real update check: an Express 5 route (with the same JSON body parsing) on
 * Express's own server (`express`) and on Rampart's (`express-rampart-server`, createHttpServer: the
 * like-for-like ceiling), and a bare Node http server.
 * Usage: reference-servers.ts <express|express-rampart-server|bare> <port> <answer-json>
 */
const KINDS = ['express', 'express-rampart-server', 'bare'];
const [kind, portArg, answer] = process.argv.slice(2);
if (!KINDS.includes(kind ?? '') || !portArg || !answer) {
  process.stderr.write(`usage: reference-servers.ts <${KINDS.join('|')}> <port> <answer-json>\n`);
  process.exit(2);
}
const port = Number(portArg);

if (kind === 'express' || kind === 'express-rampart-server') {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: '16kb' }));
  app.post('/check', (_req, res) => {
    res.type('application/json').send(answer);
  });
  const ready = () => process.stdout.write('READY\n');
  if (kind === 'express') {
    // Express 5 calls back with the error when listening fails (a port already taken).
    app.listen(port, '127.0.0.1', (err?: Error) => {
      if (err) throw err;
      ready();
    });
  } else {
    createHttpServer(app).listen(port, '127.0.0.1', ready);
  }
} else {
  createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  }).listen(port, '127.0.0.1', () => process.stdout.write('READY\n'));
}
