import type { MaintenanceWindow } from '../../domain/maintenance-window';
import type { SegmentDefinition } from '../../domain/segment';
import type { SegmentRule } from '../../domain/segment-rules';
import type { Queryable } from '../create-pool';

export const SEGMENT_COLUMNS = 's.app_id, s.key, s.rule, s.priority, s.maintenance_windows';

export interface SegmentRow {
  app_id: string;
  key: string;
  rule: SegmentRule;
  priority: number;
  maintenance_windows: MaintenanceWindow[];
}

export function mapSegmentRow(row: SegmentRow): SegmentDefinition {
  return { key: row.key, rule: row.rule, priority: row.priority, maintenanceWindows: row.maintenance_windows };
}

export interface SegmentStore {
  /** Returns null when the app has a segment with that key already. */
  insert(appId: string, segment: SegmentDefinition): Promise<SegmentDefinition | null>;
  update(appId: string, key: string, changes: Partial<Omit<SegmentDefinition, 'key'>>): Promise<SegmentDefinition | null>;
  remove(appId: string, key: string): Promise<boolean>;
  list(appId: string): Promise<SegmentDefinition[]>;
  /** The next free priority at the end of the app's order. */
  nextPriority(appId: string): Promise<number>;
}

export function createSegmentStore(db: Queryable): SegmentStore {
  return {
    async insert(appId, seg) {
      const { rows } = await db.query<SegmentRow>(
        `INSERT INTO segments AS s (app_id, key, rule, priority, maintenance_windows) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (app_id, key) DO NOTHING RETURNING ${SEGMENT_COLUMNS}`,
        [appId, seg.key, JSON.stringify(seg.rule), seg.priority, JSON.stringify(seg.maintenanceWindows)],
      );
      return rows[0] ? mapSegmentRow(rows[0]) : null;
    },
    async update(appId, key, changes) {
      const { rows } = await db.query<SegmentRow>(
        `UPDATE segments AS s SET rule = COALESCE($3, s.rule), priority = COALESCE($4, s.priority),
                maintenance_windows = COALESCE($5, s.maintenance_windows), updated_at = now()
         WHERE s.app_id = $1 AND s.key = $2 RETURNING ${SEGMENT_COLUMNS}`,
        [
          appId,
          key,
          changes.rule === undefined ? null : JSON.stringify(changes.rule),
          changes.priority ?? null,
          changes.maintenanceWindows === undefined ? null : JSON.stringify(changes.maintenanceWindows),
        ],
      );
      return rows[0] ? mapSegmentRow(rows[0]) : null;
    },
    async remove(appId, key) {
      const { rowCount } = await db.query('DELETE FROM segments WHERE app_id = $1 AND key = $2', [appId, key]);
      return rowCount === 1;
    },
    async list(appId) {
      const { rows } = await db.query<SegmentRow>(`SELECT ${SEGMENT_COLUMNS} FROM segments s WHERE s.app_id = $1 ORDER BY s.priority, s.key`, [appId]);
      return rows.map(mapSegmentRow);
    },
    async nextPriority(appId) {
      const { rows } = await db.query<{ next: number }>('SELECT COALESCE(max(s.priority), 0) + 10 AS next FROM segments s WHERE s.app_id = $1', [appId]);
      return rows[0]!.next;
    },
  };
}
