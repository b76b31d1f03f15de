import { TERMINAL_STATUSES, WITHDRAWN_STATUSES, type PublishedState, type ReleaseStatus } from '../../domain/release';
import { APP_CHANGED_CHANNEL, releaseChangePayloadSql } from '../change-feed';
import type { Queryable } from '../create-pool';

export interface RolloutStateStore {
  /**
   * Writes the state unless a newer or equal revision is stored already or the stored state is
   * terminal (see `mayReplacePublished`), mirrors the status onto the release and notifies API
   * instances, all in one statement. Returns false for a refused write, which is what makes activity
   * retries harmless and keeps a reset workflow from republishing a withdrawn release.
   */
  publish(state: PublishedState): Promise<boolean>;
  get(releaseId: string): Promise<PublishedState | null>;
}

interface RolloutStateRow {
  release_id: string;
  app_id: string;
  revision: number;
  status: PublishedState['status'];
  stage_index: number;
  exposure: PublishedState['exposure'];
  reason: string | null;
  withdrawn_segments: string[];
}

const COLUMNS = 'rs.release_id, rs.app_id, rs.revision, rs.status, rs.stage_index, rs.exposure, rs.reason, rs.withdrawn_segments';

export function createRolloutStateStore(db: Queryable): RolloutStateStore {
  return {
    async publish(s) {
      const { rowCount } = await db.query(
        `WITH written AS (
           INSERT INTO rollout_state AS rs (release_id, app_id, revision, status, stage_index, exposure, reason, published_at, withdrawn_segments)
           VALUES ($1, $2, $3, $4, $5, $6, $7, now(), $12)
           ON CONFLICT (release_id) DO UPDATE
             SET revision = EXCLUDED.revision, status = EXCLUDED.status, stage_index = EXCLUDED.stage_index,
                 exposure = EXCLUDED.exposure, reason = EXCLUDED.reason, published_at = EXCLUDED.published_at,
                 withdrawn_segments = EXCLUDED.withdrawn_segments
             WHERE rs.revision < EXCLUDED.revision
               AND (rs.status <> ALL($9::text[]) OR (rs.status = $10 AND EXCLUDED.status = ANY($11::text[])))
           RETURNING rs.release_id, rs.app_id, rs.revision, rs.status
         ), mirrored AS (
           UPDATE releases r SET status = w.status, updated_at = now() FROM written w WHERE r.id = w.release_id RETURNING r.id
         )
         SELECT pg_notify($8, ${releaseChangePayloadSql('w')}) FROM written w`,
        [
          s.releaseId,
          s.appId,
          s.revision,
          s.status,
          s.stageIndex,
          JSON.stringify(s.exposure),
          s.reason,
          APP_CHANGED_CHANNEL,
          TERMINAL_STATUSES,
          'completed' satisfies ReleaseStatus,
          WITHDRAWN_STATUSES,
          s.withdrawnSegments ?? [],
        ],
      );
      return rowCount === 1;
    },
    async get(releaseId) {
      const { rows } = await db.query<RolloutStateRow>(`SELECT ${COLUMNS} FROM rollout_state rs WHERE rs.release_id = $1`, [releaseId]);
      const row = rows[0];
      if (!row) return null;
      return {
        releaseId: row.release_id,
        appId: row.app_id,
        revision: row.revision,
        status: row.status,
        stageIndex: row.stage_index,
        exposure: row.exposure,
        reason: row.reason,
        ...(row.withdrawn_segments.length > 0 ? { withdrawnSegments: row.withdrawn_segments } : {}),
      };
    },
  };
}
