import type { RollupCohort } from '../../domain/insight';
import type { Queryable } from '../create-pool';

/** Sums over the rollup buckets of one release × segment × cohort (device counts are per bucket, added up). */
export interface ReleaseGaugeRow {
  releaseId: string;
  segment: string;
  cohort: RollupCohort;
  activeDevices: number;
  onReleaseDevices: number;
  crashedDevices: number;
  installsOk: number;
  installsFailed: number;
}

export interface ReleaseGaugeReadModel {
  /** One grouped query over `rollup_buckets` (never raw events) of the given releases' buckets starting at or after `from`. */
  recent(releaseIds: readonly string[], bucketMs: number, from: Date): Promise<ReleaseGaugeRow[]>;
}

interface Row {
  release_id: string;
  segment: string;
  cohort: RollupCohort;
  active_devices: number;
  on_release_devices: number;
  crashed_devices: number;
  installs_ok: number;
  installs_failed: number;
}

const RECENT_SQL = `
  SELECT b.release_id, b.segment, b.cohort,
         sum(b.active_devices)::int AS active_devices, sum(b.on_release_devices)::int AS on_release_devices,
         sum(b.crashed_devices)::int AS crashed_devices,
         sum(b.installs_ok)::int AS installs_ok, sum(b.installs_failed)::int AS installs_failed
  FROM rollup_buckets b
  WHERE b.release_id = ANY($1::text[]) AND b.bucket_ms = $2 AND b.bucket_start >= $3
  GROUP BY b.release_id, b.segment, b.cohort`;

export function createReleaseGaugeReadModel(db: Queryable): ReleaseGaugeReadModel {
  return {
    async recent(releaseIds, bucketMs, from) {
      if (releaseIds.length === 0) return [];
      const { rows } = await db.query<Row>(RECENT_SQL, [releaseIds, bucketMs, from]);
      return rows.map((row) => ({
        releaseId: row.release_id,
        segment: row.segment,
        cohort: row.cohort,
        activeDevices: row.active_devices,
        onReleaseDevices: row.on_release_devices,
        crashedDevices: row.crashed_devices,
        installsOk: row.installs_ok,
        installsFailed: row.installs_failed,
      }));
    },
  };
}
