import { describe, expect, it } from 'vitest';
import type { Release } from '../../../domain/release';
import { stuckCause } from '../../../worker/release-reconciler';

const createdAt = '2026-12-02T12:00:00.000Z';
const release = { id: 'r1', workflowId: 'release-r1', createdAt } as Release;
const GRACE = 60_000;

describe(stuckCause.name, () => {
  const at = (ms: number) => Date.parse(createdAt) + ms;

  it('names the close status of a closed workflow at once', () => {
    expect(stuckCause(release, { kind: 'closed', status: 'TERMINATED' }, at(0), GRACE)).toMatch(/closed as TERMINATED/);
    expect(stuckCause(release, { kind: 'closed', status: 'TIMED_OUT' }, at(0), GRACE)).toMatch(/closed as TIMED_OUT/);
  });

  it('leaves an open workflow alone, and a missing one until the start grace has passed', () => {
    expect(stuckCause(release, { kind: 'open', status: 'RUNNING' }, at(10 * GRACE), GRACE)).toBeNull();
    expect(stuckCause(release, { kind: 'missing' }, at(GRACE - 1), GRACE)).toBeNull();
    expect(stuckCause(release, { kind: 'missing' }, at(GRACE), GRACE)).toMatch(/never started/);
  });
});
