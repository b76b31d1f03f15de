import type { Exposure } from '../../domain/release';
import { APP_CHANGED_CHANNEL, releaseChangePayloadSql } from '../change-feed';
import type { Queryable } from '../create-pool';

export interface RevertedState {
  revision: number;
  exposure: Exposure;
}

export type RevertOutcome = { reverted: RevertedState } | { alreadyReverted: RevertedState } | { notCompleted: string | null };

export interface RolloutRevertStore {
  /**
   * Withdraws a completed release: its published state becomes `rolled_back` with zero exposure at
   * the next revision, mirrored onto the release, and API instances are notified — one statement.
   * The only change ever made to a terminal state, and only completed → rolled_back.
   */
  revertCompleted(releaseId: string, reason: string): Promise<RevertOutcome>;
}

export function createRolloutRevertStore(db: Queryable): RolloutRevertStore {
  return {
    async revertCompleted(releaseId, reason) {
      const { rows } = await db.query<{ revision: number; exposure: Exposure }>(
        `WITH written AS (
           UPDATE rollout_state rs
              SET revision = rs.revision + 1, status = 'rolled_back', reason = $2, published_at = now(),
                  exposure = COALESCE((SELECT jsonb_object_agg(e.key, 0) FROM jsonb_each(rs.exposure) e), '{}'::jsonb)
            WHERE rs.release_id = $1 AND rs.status = 'completed'
           RETURNING rs.release_id, rs.app_id, rs.revision, rs.exposure
         ), mirrored AS (
           UPDATE releases r SET status = 'rolled_back', updated_at = now() FROM written w WHERE r.id = w.release_id RETURNING r.id
         )
         SELECT w.revision, w.exposure, pg_notify($3, ${releaseChangePayloadSql('w')}) FROM written w`,
        [releaseId, reason, APP_CHANGED_CHANNEL],
      );
      if (rows[0]) return { reverted: { revision: rows[0].revision, exposure: rows[0].exposure } };
      const current = await db.query<{ revision: number; exposure: Exposure; status: string }>(
        'SELECT rs.revision, rs.exposure, rs.status FROM rollout_state rs WHERE rs.release_id = $1',
        [releaseId],
      );
      const row = current.rows[0];
      if (row?.status === 'rolled_back') return { alreadyReverted: { revision: row.revision, exposure: row.exposure } };
      return { notCompleted: row?.status ?? null };
    },
  };
}
