#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiError, createRampartClient } from './rampart-client';
import { runCli, USAGE, UsageError, type Print } from './run-cli';

/*
 * `rampart` — the release engineer's and on-call engineer's CLI. It talks to the admin API over HTTP
 * only: RAMPART_URL (default http://127.0.0.1:8080) and RAMPART_API_KEY (default: the key `npm start`
 * keeps in .data/admin-key).
 */

function defaultKey(): string | undefined {
  const file = path.resolve('.data/admin-key');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

async function main(): Promise<void> {
  const key = process.env.RAMPART_API_KEY ?? defaultKey();
  const print: Print = (line) => process.stdout.write(`${line}\n`);
  try {
    if (!key) throw new UsageError('set RAMPART_API_KEY to an admin API key');
    await runCli(process.argv.slice(2), createRampartClient(process.env.RAMPART_URL ?? 'http://127.0.0.1:8080', key), print);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message ? `rampart: ${err.message}\n\n` : ''}${USAGE}`);
      process.exitCode = 2;
    } else if (err instanceof ApiError) {
      process.stderr.write(`rampart: ${err.message} (${err.code}${err.status ? `, HTTP ${err.status}` : ''})\n`);
      process.exitCode = 1;
    } else {
      throw err;
    }
  }
}

void main();
