import type { Plan } from '../../domain/plan';
import { ACTIVE_STATUSES, type Release, type ReleaseStatus } from '../../domain/release';
import type { Queryable } from '../create-pool';
import { isPgError, UNIQUE_VIOLATION } from '../pg-errors';

const COLUMNS =
  'r.id, r.app_id, r.channel, r.version, r.baseline_version, r.bucket_salt, r.plan, r.window_ms, r.status, r.workflow_id, r.created_by, r.created_at, r.updated_at';

interface ReleaseRow {
  id: string;
  app_id: string;
  channel: string;
  version: string;
  baseline_version: string | null;
  bucket_salt: string;
  plan: Plan;
  window_ms: number;
  status: ReleaseStatus;
  workflow_id: string;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

function mapRow(row: ReleaseRow): Release {
  return {
    id: row.id,
    appId: row.app_id,
    channel: row.channel,
    version: row.version,
    baselineVersion: row.baseline_version,
    bucketSalt: row.bucket_salt,
    plan: row.plan,
    windowMs: row.window_ms,
    status: row.status,
    workflowId: row.workflow_id,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export type NewRelease = Omit<Release, 'createdAt' | 'updatedAt'>;

export type InsertReleaseResult = { inserted: Release } | { activeConflict: true };

export interface ListReleasesFilter {
  appId: string;
  channel?: string;
  status?: ReleaseStatus;
  limit: number;
}

export interface ReleaseStore {
  /** Fails softly when the channel already has a release in flight (one active per app and channel). */
  insert(release: NewRelease): Promise<InsertReleaseResult>;
  get(id: string): Promise<Release | null>;
  list(filter: ListReleasesFilter): Promise<Release[]>;
  findActive(appId: string, channel: string): Promise<Release | null>;
  /** Releases of the app still in flight, on any channel. */
  listActive(appId: string): Promise<Release[]>;
  /** Releases in flight in every app, least recently changed first: what the reconciler checks. */
  listActiveEverywhere(limit: number): Promise<Release[]>;
  /** The newest release of the channel that reached everyone: the next release's baseline. */
  findLatestCompleted(appId: string, channel: string): Promise<Release | null>;
  /** The newest release of this version on the channel that was rolled back, with the reason it was. */
  findRolledBack(appId: string, channel: string, version: string): Promise<{ release: Release; reason: string | null } | null>;
}

export function createReleaseStore(db: Queryable): ReleaseStore {
  return {
    async insert(r) {
      try {
        const { rows } = await db.query<ReleaseRow>(
          `INSERT INTO releases AS r (id, app_id, channel, version, baseline_version, bucket_salt, plan, window_ms, status, workflow_id, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           RETURNING ${COLUMNS}`,
          [r.id, r.appId, r.channel, r.version, r.baselineVersion, r.bucketSalt, JSON.stringify(r.plan), r.windowMs, r.status, r.workflowId, r.createdBy],
        );
        return { inserted: mapRow(rows[0]!) };
      } catch (err) {
        if (isPgError(err, UNIQUE_VIOLATION) && err.constraint === 'releases_one_active_per_channel') return { activeConflict: true };
        throw err;
      }
    },
    async get(id) {
      const { rows } = await db.query<ReleaseRow>(`SELECT ${COLUMNS} FROM releases r WHERE r.id = $1`, [id]);
      return rows[0] ? mapRow(rows[0]) : null;
    },
    async list({ appId, channel, status, limit }) {
      const { rows } = await db.query<ReleaseRow>(
        `SELECT ${COLUMNS} FROM releases r
         WHERE r.app_id = $1 AND ($2::text IS NULL OR r.channel = $2) AND ($3::text IS NULL OR r.status = $3)
         ORDER BY r.created_at DESC, r.id DESC LIMIT $4`,
        [appId, channel ?? null, status ?? null, limit],
      );
      return rows.map(mapRow);
    },
    async findActive(appId, channel) {
      const { rows } = await db.query<ReleaseRow>(
        `SELECT ${COLUMNS} FROM releases r
         WHERE r.app_id = $1 AND r.channel = $2 AND r.status = ANY($3::text[])`,
        [appId, channel, ACTIVE_STATUSES],
      );
      return rows[0] ? mapRow(rows[0]) : null;
    },
    async listActive(appId) {
      const { rows } = await db.query<ReleaseRow>(
        `SELECT ${COLUMNS} FROM releases r WHERE r.app_id = $1 AND r.status = ANY($2::text[]) ORDER BY r.created_at`,
        [appId, ACTIVE_STATUSES],
      );
      return rows.map(mapRow);
    },
    async listActiveEverywhere(limit) {
      const { rows } = await db.query<ReleaseRow>(
        `SELECT ${COLUMNS} FROM releases r WHERE r.status = ANY($1::text[]) ORDER BY r.updated_at, r.id LIMIT $2`,
        [ACTIVE_STATUSES, limit],
      );
      return rows.map(mapRow);
    },
    async findLatestCompleted(appId, channel) {
      const { rows } = await db.query<ReleaseRow>(
        `SELECT ${COLUMNS} FROM releases r
         WHERE r.app_id = $1 AND r.channel = $2 AND r.status = $3
         ORDER BY r.updated_at DESC, r.id DESC LIMIT 1`,
        [appId, channel, 'completed' satisfies ReleaseStatus],
      );
      return rows[0] ? mapRow(rows[0]) : null;
    },
    async findRolledBack(appId, channel, version) {
      const { rows } = await db.query<ReleaseRow & { reason: string | null }>(
        `SELECT ${COLUMNS}, rs.reason FROM releases r LEFT JOIN rollout_state rs ON rs.release_id = r.id
         WHERE r.app_id = $1 AND r.channel = $2 AND r.version = $3 AND r.status = $4
         ORDER BY r.updated_at DESC, r.id DESC LIMIT 1`,
        [appId, channel, version, 'rolled_back' satisfies ReleaseStatus],
      );
      return rows[0] ? { release: mapRow(rows[0]), reason: rows[0].reason } : null;
    },
  };
}
