import type { Role } from '../../domain/access';
import type { AppPolicy } from '../../domain/app-policy';
import type { Queryable } from '../create-pool';

const COLUMNS = 'p.disable_gates, p.dry_run, p.skip_stages, p.updated_by, p.updated_at';

interface AppPolicyRow {
  disable_gates: Role[];
  dry_run: Role[];
  skip_stages: Role[];
  updated_by: string;
  updated_at: Date;
}

export interface StoredAppPolicy {
  policy: AppPolicy;
  updatedBy: string;
  updatedAt: string;
}

function mapRow(row: AppPolicyRow): StoredAppPolicy {
  return {
    policy: { disable_gates: row.disable_gates, dry_run: row.dry_run, skip_stages: row.skip_stages },
    updatedBy: row.updated_by,
    updatedAt: row.updated_at.toISOString(),
  };
}

export interface AppPolicyStore {
  /** Null when the app never set a policy of its own. */
  get(appId: string): Promise<StoredAppPolicy | null>;
  put(appId: string, policy: AppPolicy, updatedBy: string): Promise<StoredAppPolicy>;
}

export function createAppPolicyStore(db: Queryable): AppPolicyStore {
  return {
    async get(appId) {
      const { rows } = await db.query<AppPolicyRow>(`SELECT ${COLUMNS} FROM app_policies p WHERE p.app_id = $1`, [appId]);
      return rows[0] ? mapRow(rows[0]) : null;
    },
    async put(appId, policy, updatedBy) {
      const { rows } = await db.query<AppPolicyRow>(
        `INSERT INTO app_policies AS p (app_id, disable_gates, dry_run, skip_stages, updated_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (app_id) DO UPDATE
           SET disable_gates = EXCLUDED.disable_gates, dry_run = EXCLUDED.dry_run, skip_stages = EXCLUDED.skip_stages,
               updated_by = EXCLUDED.updated_by, updated_at = now()
         RETURNING ${COLUMNS}`,
        [appId, policy.disable_gates, policy.dry_run, policy.skip_stages, updatedBy],
      );
      return mapRow(rows[0]!);
    },
  };
}
