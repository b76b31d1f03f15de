import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, inject } from 'vitest';
import { createAppWithBundles } from './fixtures';
import { createApiProcess, createWorkerProcess, newDeployment, stopAll, tailOf, type ApiProcess, type Deployment, type ServiceProcess } from './service-processes';
import { createTestDatabase, type TestDatabase } from './test-database';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

export interface ProcessStackOptions {
  /** API instances (default 1). */
  apis?: number;
  /** Default: the test run's dev server. */
  temporalAddress?: string;
  /** Where the API instances and the worker reach PostgreSQL (a proxy the test cuts); default directly. */
  apiDatabaseUrl?: (url: string) => string;
  workerDatabaseUrl?: (url: string) => string;
  apiEnv?: NodeJS.ProcessEnv;
}

/**
 * The service as it is deployed: a worker process and API processes on a database of their own and a
 * real Temporal server, with a webhook receiver subscribed to every event of the apps the test makes.
 * The test's own pool and Temporal client read the ledgers (audit log, events, workflow state).
 */
export interface ProcessStack {
  db: TestDatabase;
  deployment: Deployment;
  worker: ServiceProcess;
  apis: ApiProcess[];
  temporal: Client;
  receiver: WebhookReceiver;
  /** An app with the given bundles and a webhook to the receiver. */
  createApp(appId: string, versions: string[]): Promise<void>;
  /** The last lines of every process, for a failure message. */
  tail(): string;
  stop(): Promise<void>;
}

export async function startProcessStack(options: ProcessStackOptions = {}): Promise<ProcessStack> {
  const env = inject('testEnv');
  const db = await createTestDatabase();
  const temporalAddress = options.temporalAddress ?? env.temporalAddress;
  const deployment = newDeployment({ databaseUrl: db.url, temporalAddress, workflowBundlePath: env.workflowBundlePath });
  const worker = await createWorkerProcess(deployment, 'worker', { databaseUrl: options.workerDatabaseUrl?.(db.url) });
  const apis: ApiProcess[] = [];
  for (let i = 0; i < (options.apis ?? 1); i++) {
    apis.push(await createApiProcess(deployment, `api-${String.fromCharCode(97 + i)}`, { databaseUrl: options.apiDatabaseUrl?.(db.url), env: options.apiEnv }));
  }
  const receiver = await startWebhookReceiver();
  const connection = await Connection.connect({ address: temporalAddress });
  const processes = [worker, ...apis];
  const stop = async () => {
    await stopAll(processes);
    await connection.close();
    await receiver.down();
    await db.drop();
  };
  try {
    // One API bootstraps the admin key before the others look for it.
    await Promise.all([worker.start(), apis[0]!.start()]);
    await Promise.all(apis.slice(1).map((api) => api.start()));
  } catch (err) {
    const tail = tailOf(processes);
    await stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${tail}`);
  }
  const admin = apis[0]!.admin;
  return {
    db,
    deployment,
    worker,
    apis,
    temporal: new Client({ connection }),
    receiver,
    async createApp(appId, versions) {
      await createAppWithBundles(admin, appId, versions);
      const hook = await admin.post(`/v1/apps/${appId}/webhooks`, { url: receiver.url });
      if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${JSON.stringify(hook.body)}`);
    },
    tail: () => tailOf(processes),
    stop,
  };
}

/** A stack started before the file's tests and stopped after them; call the getter inside a test. */
export function useProcessStack(options: ProcessStackOptions = {}): () => ProcessStack {
  let stack: ProcessStack | undefined;
  beforeAll(async () => {
    stack = await startProcessStack(options);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  return () => stack!;
}
