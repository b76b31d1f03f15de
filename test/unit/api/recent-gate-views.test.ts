import { describe, expect, it } from 'vitest';
import { recentGateViews } from '../../../api/services/recent-gate-views';
import type { ReleaseView } from '../../../domain/rollout-view';

describe('recent gate views', () => {
  it('asks each workflow once per max age, shares a query in flight, and asks again after a failed one', async () => {
    const asked: string[] = [];
    let answering = true;
    const rollouts = {
      queryState: (workflowId: string, timeoutMs?: number) => {
        asked.push(`${workflowId}/${timeoutMs}`);
        return Promise.resolve(answering ? ({ releaseId: workflowId } as unknown as ReleaseView) : null);
      },
    };
    let clock = 0;
    const views = recentGateViews(rollouts, 250, 2000, () => clock);
    const [a, b] = await Promise.all([views.get('wf-a'), views.get('wf-a')]);
    expect(a).toBe(b);
    clock = 2000;
    expect(await views.get('wf-a')).toBe(a);
    expect(await views.get('wf-b')).toMatchObject({ releaseId: 'wf-b' });
    expect(asked).toEqual(['wf-a/250', 'wf-b/250']);
    clock = 2001;
    expect(await views.get('wf-a')).not.toBe(a);
    expect(asked).toHaveLength(3);

    answering = false;
    clock = 10_000;
    expect(await views.get('wf-a')).toBeNull();
    answering = true;
    expect(await views.get('wf-a')).toMatchObject({ releaseId: 'wf-a' });
    expect(asked).toHaveLength(5);
  });
});
