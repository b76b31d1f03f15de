import { describe, expect, it } from 'vitest';
import { mayReplacePublished, RELEASE_STATUSES, withdrawnState } from '../../../domain/release';

describe(mayReplacePublished.name, () => {
  it('never lets a withdrawn or aborted state change; a completed one only to a withdrawal (revert)', () => {
    for (const next of RELEASE_STATUSES) {
      expect(mayReplacePublished('rolled_back', next)).toBe(false);
      expect(mayReplacePublished('aborted', next)).toBe(false);
      expect(mayReplacePublished('completed', next)).toBe(next === 'rolled_back' || next === 'aborted');
      expect(mayReplacePublished('running', next)).toBe(true);
    }
  });
});

describe(withdrawnState.name, () => {
  it('takes the next revision and zeroes every exposed segment', () => {
    const current = { releaseId: 'r1', appId: 'a', revision: 7, status: 'running' as const, stageIndex: 2, exposure: { beta: 10_000, default: 500 }, reason: null };
    expect(withdrawnState({ id: 'r1', appId: 'a' }, current, 'why')).toEqual({
      releaseId: 'r1',
      appId: 'a',
      revision: 8,
      status: 'aborted',
      stageIndex: 2,
      exposure: { beta: 0, default: 0 },
      reason: 'why',
    });
  });

  it('starts at revision 1 for a release that never published', () => {
    expect(withdrawnState({ id: 'r2', appId: 'a' }, null, 'why')).toMatchObject({ revision: 1, status: 'aborted', exposure: {}, stageIndex: 0 });
  });
});
