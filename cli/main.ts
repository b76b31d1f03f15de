#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError, type Output } from './command-context';
import { explainApiError } from './explain-api-error';
import { ApiError, createRampartClient } from './rampart-client';
import { runCli } from './run-cli';
import { usage } from './usage';

/*
 * `rampart` — the release engineer's and on-call engineer's CLI. It talks to the admin API over HTTP
 * only: RAMPART_URL (default http://127.0.0.1:8080) and RAMPART_API_KEY (default: the key `npm start`
 * keeps in .data/admin-key).
 */

function defaultKey(): string | undefined {
  const file = path.resolve('.data/admin-key');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

function connect() {
  const key = process.env.RAMPART_API_KEY ?? defaultKey();
  if (!key) throw new UsageError('set RAMPART_API_KEY to an admin API key');
  return createRampartClient(process.env.RAMPART_URL ?? 'http://127.0.0.1:8080', key);
}

// `rampart … | head -1`: the reader is gone, and nobody is left to read an error either.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

async function main(): Promise<void> {
  const out: Output = { write: (text) => process.stdout.write(text), tty: process.stdout.isTTY === true, columns: process.stdout.columns };
  try {
    await runCli(process.argv.slice(2), connect, out);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message ? `rampart: ${err.message}\n\n` : ''}${usage(err.group)}`);
      process.exitCode = 2;
    } else if (err instanceof ApiError) {
      process.stderr.write(explainApiError(err).map((line) => `rampart: ${line}\n`).join(''));
      process.exitCode = 1;
    } else {
      throw err;
    }
  }
}

void main();
