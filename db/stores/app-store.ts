import type { App } from '../../domain/app';
import type { Queryable } from '../create-pool';

const COLUMNS = 'a.id, a.name, a.allow_http_bundles, a.default_time_zone, a.created_at';

interface AppRow {
  id: string;
  name: string;
  allow_http_bundles: boolean;
  default_time_zone: string;
  created_at: Date;
}

function mapRow(row: AppRow): App {
  return { id: row.id, name: row.name, allowHttpBundles: row.allow_http_bundles, defaultTimeZone: row.default_time_zone, createdAt: row.created_at.toISOString() };
}

export interface NewApp {
  id: string;
  name: string;
  allowHttpBundles: boolean;
  defaultTimeZone: string;
}

export interface AppStore {
  /** Returns null when an app with that id exists already. */
  insert(app: NewApp): Promise<App | null>;
  get(id: string): Promise<App | null>;
  list(ids?: string[]): Promise<App[]>;
}

export function createAppStore(db: Queryable): AppStore {
  return {
    async insert(app) {
      const { rows } = await db.query<AppRow>(
        `INSERT INTO apps AS a (id, name, allow_http_bundles, default_time_zone) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [app.id, app.name, app.allowHttpBundles, app.defaultTimeZone],
      );
      return rows[0] ? mapRow(rows[0]) : null;
    },
    async get(id) {
      const { rows } = await db.query<AppRow>(`SELECT ${COLUMNS} FROM apps a WHERE a.id = $1`, [id]);
      return rows[0] ? mapRow(rows[0]) : null;
    },
    async list(ids) {
      const { rows } = ids
        ? await db.query<AppRow>(`SELECT ${COLUMNS} FROM apps a WHERE a.id = ANY($1) ORDER BY a.id`, [ids])
        : await db.query<AppRow>(`SELECT ${COLUMNS} FROM apps a ORDER BY a.id`);
      return rows.map(mapRow);
    },
  };
}
