import { defineConfig } from 'vitest/config';
import base from './vitest.config.mjs';

// `npm run test:faults`: the fault suite at full size (RAMPART_FAULTS=full, see test/faults/fault-size.ts),
// one file at a time so each fault has the machine to itself. `npm test` runs the same files small.
const integration = base.test!.projects!.find((p) => typeof p === 'object' && 'test' in p && p.test?.name === 'integration') as { test: Record<string, unknown> };

export default defineConfig({
  test: {
    ...integration.test,
    name: 'faults',
    include: ['test/faults/**/*.test.ts'],
    maxWorkers: 1,
    testTimeout: 900_000,
  },
});
