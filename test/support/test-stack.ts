import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import type { ApiTuningOverrides } from '../../platform/config';
import { startInProcessStack, type InProcessStack, type InProcessStackOptions } from '../../scripts/support/in-process-stack';
import { createLogger } from '../../platform/logger';
import { createHttp, type Http } from './http';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestStack extends InProcessStack {
  db: TestDatabase;
  taskQueue: string;
}

const logger = createLogger('rampart-test', process.env.TEST_LOG_LEVEL ?? 'warn');

/**
 * The whole service against the real Temporal dev server and a real PostgreSQL database of its own:
 * the API on an ephemeral port and a worker on a task queue no other test file uses.
 */
export async function startTestStack(tuning: ApiTuningOverrides = {}, hooks: Pick<InProcessStackOptions, 'wrapActivities' | 'reconciler'> = {}): Promise<TestStack> {
  const env = inject('testEnv');
  const db = await createTestDatabase();
  const taskQueue = `test-${randomBytes(6).toString('hex')}`;
  const stack = await startInProcessStack({
    pool: db.pool,
    databaseUrl: db.url,
    temporalAddress: env.temporalAddress,
    taskQueue,
    adminKey: `test-admin-${randomBytes(12).toString('hex')}`,
    logger,
    metricsPrefix: 'test',
    // Profiles are written and engagement reloaded within a test's patience.
    tuning: { ...tuning, deviceProfiles: { flushIntervalMs: 100, cacheTtlMs: 300, ...tuning.deviceProfiles } },
    workflowBundlePath: env.workflowBundlePath,
    ...hooks,
  });
  return {
    ...stack,
    db,
    taskQueue,
    async stop() {
      await stack.stop();
      await db.drop();
    },
  };
}

export interface StackContext {
  stack: TestStack;
  /** HTTP client with the bootstrap admin key. */
  admin: Http;
  /** HTTP client without credentials, as devices call. */
  device: Http;
}

/** Starts one stack for the test file (beforeAll) and stops it afterwards; fields are set once started. */
export function useTestStack(options: Parameters<typeof startTestStack>[0] = {}, hooks: Parameters<typeof startTestStack>[1] = {}): StackContext {
  const ctx = {} as StackContext;
  beforeAll(async () => {
    ctx.stack = await startTestStack(options, hooks);
    ctx.admin = createHttp(ctx.stack.baseUrl, ctx.stack.adminKey);
    ctx.device = createHttp(ctx.stack.baseUrl);
  });
  afterAll(async () => {
    await ctx.stack?.stop();
  });
  return ctx;
}
