import type { Platform } from '../../domain/bundle';
import type { Channel } from '../../domain/channel';
import type { Queryable } from '../create-pool';

export const CHANNEL_COLUMNS = 'c.app_id, c.name, c.public, c.allow_self_assign, c.platforms, c.deployment_key, c.created_at';

export interface ChannelRow {
  app_id: string;
  name: string;
  public: boolean;
  allow_self_assign: boolean;
  platforms: Platform[];
  deployment_key: string;
  created_at: Date;
}

export function mapChannelRow(row: ChannelRow): Channel {
  return {
    appId: row.app_id,
    name: row.name,
    public: row.public,
    allowSelfAssign: row.allow_self_assign,
    platforms: row.platforms,
    deploymentKey: row.deployment_key,
    createdAt: row.created_at.toISOString(),
  };
}

export type NewChannel = Omit<Channel, 'createdAt'>;

export interface ChannelStore {
  /** Returns null when the app has a channel of that name already. */
  insert(channel: NewChannel): Promise<Channel | null>;
  update(appId: string, name: string, changes: Partial<Pick<Channel, 'public' | 'allowSelfAssign' | 'platforms'>>): Promise<Channel | null>;
  get(appId: string, name: string): Promise<Channel | null>;
  list(appId: string): Promise<Channel[]>;
}

export function createChannelStore(db: Queryable): ChannelStore {
  return {
    async insert(c) {
      const { rows } = await db.query<ChannelRow>(
        `INSERT INTO channels AS c (app_id, name, public, allow_self_assign, platforms, deployment_key)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (app_id, name) DO NOTHING RETURNING ${CHANNEL_COLUMNS}`,
        [c.appId, c.name, c.public, c.allowSelfAssign, c.platforms, c.deploymentKey],
      );
      return rows[0] ? mapChannelRow(rows[0]) : null;
    },
    async update(appId, name, changes) {
      const { rows } = await db.query<ChannelRow>(
        `UPDATE channels AS c SET public = COALESCE($3, c.public), allow_self_assign = COALESCE($4, c.allow_self_assign),
                platforms = COALESCE($5, c.platforms)
         WHERE c.app_id = $1 AND c.name = $2 RETURNING ${CHANNEL_COLUMNS}`,
        [appId, name, changes.public ?? null, changes.allowSelfAssign ?? null, changes.platforms ?? null],
      );
      return rows[0] ? mapChannelRow(rows[0]) : null;
    },
    async get(appId, name) {
      const { rows } = await db.query<ChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.app_id = $1 AND c.name = $2`, [appId, name]);
      return rows[0] ? mapChannelRow(rows[0]) : null;
    },
    async list(appId) {
      const { rows } = await db.query<ChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.app_id = $1 ORDER BY c.name`, [appId]);
      return rows.map(mapChannelRow);
    },
  };
}
