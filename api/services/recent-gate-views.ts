import type { ReleaseView } from '../../domain/rollout-view';
import type { RolloutClient } from './rollout-client';

export interface RecentGateViews {
  /** The release workflow's view, as it answered at most `maxAgeMs` ago; null when it did not answer in time. */
  get(workflowId: string): Promise<ReleaseView | null>;
}

/**
 * Asks a release's workflow for its view at most once per `maxAgeMs`, however many answers show it:
 * a query goes through the Temporal server to a worker and back, which under load took longer than
 * all of an insight answer's PostgreSQL reads together. Requests meanwhile share the answer (or the
 * query in flight). A query that timed out or failed is not kept, so the next request asks again.
 */
export function recentGateViews(rollouts: Pick<RolloutClient, 'queryState'>, timeoutMs: number, maxAgeMs: number, now: () => number = Date.now): RecentGateViews {
  // By workflow, oldest question first (a Map keeps insertion order, and entries are never moved).
  const asked = new Map<string, { at: number; view: Promise<ReleaseView | null> }>();
  return {
    get(workflowId) {
      const at = now();
      for (const [id, entry] of asked) {
        if (at - entry.at <= maxAgeMs) break;
        asked.delete(id);
      }
      const recent = asked.get(workflowId);
      if (recent) return recent.view;
      const view = rollouts.queryState(workflowId, timeoutMs);
      asked.set(workflowId, { at, view });
      void view.then((answered) => {
        if (answered === null && asked.get(workflowId)?.view === view) asked.delete(workflowId);
      });
      return view;
    },
  };
}
