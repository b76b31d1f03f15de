/** Values the global setup hands to every integration test file (vitest `provide`/`inject`). */
export interface TestEnv {
  /** Server URL with the maintenance database, e.g. postgres://postgres@127.0.0.1:5432/postgres. */
  postgresUrl: string;
  /** A migrated database each test file clones (CREATE DATABASE … TEMPLATE). */
  templateDatabase: string;
  /** Per-run prefix of every database the tests create. */
  databasePrefix: string;
  temporalAddress: string;
  /** The workflow bundle, built once per run. */
  workflowBundlePath: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testEnv: TestEnv;
  }
}
