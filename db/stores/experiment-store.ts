import type { BundleRef } from '../../domain/bundle';
import type { ArmSpec, ExperimentDefinition, InstallMode } from '../../domain/experiment';
import { armOfCohort } from '../../domain/experiment';
import type { ServingExperiment } from '../../domain/experiment-serving';
import type { ArmMetrics } from '../../domain/experiment-machine';
import type { Queryable } from '../create-pool';
import { BUNDLE_COLUMNS, mapBundleRow, type BundleRow } from './bundle-store';
import { inDeviceSet } from './rollup-store';

/** What an experiment workflow publishes beside its rollout state (same revision, same transaction). */
export interface PublishedExperimentState {
  releaseId: string;
  revision: number;
  stoppedArms: string[];
  /** The arm shipped to everyone; its bundle becomes the release's. */
  promotedArm: string | null;
}

export interface StoredExperiment {
  releaseId: string;
  definition: ExperimentDefinition;
  stoppedArms: string[];
  promotedArm: string | null;
}

/** The columns of the definition that live in `experiments.definition` (the arms have their own table). */
type DefinitionRest = Omit<ExperimentDefinition, 'arms'>;

interface ArmRow {
  release_id: string;
  arm_key: string;
  version: string | null;
  weight: number;
  install_mode: InstallMode;
}

interface ServingArmRow extends ArmRow, Partial<Omit<BundleRow, 'version'>> {
  arm_salt: string;
  control: string;
  stopped_arms: string[] | null;
}

const ARM_COLUMNS = 'a.release_id, a.arm_key, a.version, a.weight, a.install_mode';

const armSpec = (row: ArmRow): ArmSpec => ({ key: row.arm_key, version: row.version, weight: row.weight, installMode: row.install_mode });

function servingBundle(row: ServingArmRow): BundleRef | null {
  if (row.version === null) return null;
  const { appId: _app, notes: _notes, createdAt: _created, ...ref } = mapBundleRow({ ...(row as Omit<BundleRow, 'version'>), version: row.version });
  return ref;
}

export interface ExperimentStore {
  /** Written with its release row, in the release's transaction. */
  insert(input: { releaseId: string; appId: string; armSalt: string; definition: ExperimentDefinition }): Promise<void>;
  get(releaseId: string): Promise<StoredExperiment | null>;
  /** The arms of these releases that are experiments, as devices are answered from them. */
  serving(releaseIds: readonly string[]): Promise<Map<string, ServingExperiment>>;
  /**
   * Writes the arms' state unless an equal or newer revision is stored; a promotion makes the
   * promoted arm's bundle the release's, so the channel's next release builds on it. Call in the
   * transaction that publishes the rollout state of the same revision.
   */
  publish(state: PublishedExperimentState): Promise<void>;
  /**
   * Each arm's cumulative counts from the release's rollups of one bucket size, keyed by arm (feature
   * uses: of its primary feature, and of each feature its metric guardrails name).
   */
  armMetrics(releaseId: string, stepMs: number): Promise<Record<string, ArmMetrics>>;
  /** The feature names the app's rollups keep by name (rollup_feature_names). */
  keptFeatureNames(appId: string): Promise<string[]>;
}

interface ArmCounterRow {
  cohort: string;
  timed_sessions: number;
  session_ms_sum: number;
  session_ms_squares: number;
  installs_ok: number;
  installs_failed: number;
  sessions: number;
  feature_uses: number;
}

interface ArmFeatureRow {
  cohort: string;
  feature: string;
  uses: number;
}

interface ArmDeviceRow {
  cohort: string;
  devices: number;
  active_buckets: number;
  on_arm_buckets: number;
}

const NO_METRICS: ArmMetrics = {
  devices: 0,
  timedSessions: 0,
  sessionMsSum: 0,
  sessionMsSquares: 0,
  installsOk: 0,
  installsFailed: 0,
  activeDeviceBuckets: 0,
  onArmDeviceBuckets: 0,
  sessions: 0,
  featureUses: 0,
};

export function createExperimentStore(db: Queryable): ExperimentStore {
  return {
    async insert({ releaseId, appId, armSalt, definition }) {
      const { arms, ...rest } = definition;
      await db.query('INSERT INTO experiments (release_id, arm_salt, definition) VALUES ($1, $2, $3)', [releaseId, armSalt, JSON.stringify(rest satisfies DefinitionRest)]);
      await db.query(
        `INSERT INTO experiment_arms (release_id, arm_key, position, app_id, version, weight, install_mode)
         SELECT $1, a.key, a.position, $2, a.version, a.weight, a.install_mode
         FROM unnest($3::text[], $4::int[], $5::text[], $6::int[], $7::text[]) AS a(key, position, version, weight, install_mode)`,
        [releaseId, appId, arms.map((a) => a.key), arms.map((_, i) => i), arms.map((a) => a.version), arms.map((a) => a.weight), arms.map((a) => a.installMode)],
      );
    },

    async get(releaseId) {
      const [experiment, arms] = await Promise.all([
        db.query<{ definition: DefinitionRest; stopped_arms: string[] | null; promoted_arm: string | null }>(
          `SELECT e.definition, s.stopped_arms, s.promoted_arm FROM experiments e LEFT JOIN experiment_state s ON s.release_id = e.release_id WHERE e.release_id = $1`,
          [releaseId],
        ),
        db.query<ArmRow>(`SELECT ${ARM_COLUMNS} FROM experiment_arms a WHERE a.release_id = $1 ORDER BY a.position`, [releaseId]),
      ]);
      const row = experiment.rows[0];
      if (!row) return null;
      return { releaseId, definition: { ...row.definition, arms: arms.rows.map(armSpec) }, stoppedArms: row.stopped_arms ?? [], promotedArm: row.promoted_arm };
    },

    async serving(releaseIds) {
      const result = new Map<string, ServingExperiment>();
      if (releaseIds.length === 0) return result;
      const { rows } = await db.query<ServingArmRow>(
        `SELECT ${ARM_COLUMNS}, e.arm_salt, e.definition->>'control' AS control, s.stopped_arms, ${BUNDLE_COLUMNS}
         FROM experiment_arms a
         JOIN experiments e ON e.release_id = a.release_id
         LEFT JOIN experiment_state s ON s.release_id = a.release_id
         LEFT JOIN bundles b ON b.app_id = a.app_id AND b.version = a.version
         WHERE a.release_id = ANY($1::text[])
         ORDER BY a.release_id, a.position`,
        [releaseIds],
      );
      for (const row of rows) {
        let experiment = result.get(row.release_id);
        if (!experiment) result.set(row.release_id, (experiment = { armSalt: row.arm_salt, arms: [] }));
        experiment.arms.push({
          key: row.arm_key,
          bundle: servingBundle(row),
          weight: row.weight,
          installMode: row.install_mode,
          control: row.arm_key === row.control,
          stopped: (row.stopped_arms ?? []).includes(row.arm_key),
        });
      }
      return result;
    },

    async publish(state) {
      await db.query(
        `WITH written AS (
           INSERT INTO experiment_state AS s (release_id, revision, stopped_arms, promoted_arm) VALUES ($1, $2, $3, $4)
           ON CONFLICT (release_id) DO UPDATE SET revision = EXCLUDED.revision, stopped_arms = EXCLUDED.stopped_arms, promoted_arm = EXCLUDED.promoted_arm
             WHERE s.revision < EXCLUDED.revision
           RETURNING s.release_id, s.promoted_arm
         )
         UPDATE releases r SET version = a.version
         FROM written w JOIN experiment_arms a ON a.release_id = w.release_id AND a.arm_key = w.promoted_arm
         WHERE r.id = w.release_id AND a.version IS NOT NULL`,
        [state.releaseId, state.revision, state.stoppedArms, state.promotedArm],
      );
    },

    async armMetrics(releaseId, stepMs) {
      const [counters, devices, guarded] = await Promise.all([
        // Without a primary feature, or one the app does not keep (yet), there is no slot: feature_uses[NULL] is NULL, counted as 0.
        db.query<ArmCounterRow>(
          `SELECT b.cohort, sum(b.timed_sessions)::int AS timed_sessions, sum(b.session_ms_sum)::float8 AS session_ms_sum,
                  sum(b.session_ms_squares)::float8 AS session_ms_squares, sum(b.installs_ok)::int AS installs_ok, sum(b.installs_failed)::int AS installs_failed,
                  sum(b.sessions)::int AS sessions, coalesce(sum(b.feature_uses[f.slot]), 0)::int AS feature_uses
           FROM rollup_buckets b
           JOIN releases r ON r.id = b.release_id
           JOIN experiments e ON e.release_id = b.release_id
           LEFT JOIN rollup_feature_names f ON f.app_id = r.app_id AND f.feature = e.definition->'primary'->>'feature'
           WHERE b.release_id = $1 AND b.bucket_ms = $2 AND b.cohort LIKE 'arm:%'
           GROUP BY b.cohort`,
          [releaseId, stepMs],
        ),
        db.query<ArmDeviceRow>(
          `SELECT b.cohort,
                  count(DISTINCT d.device_id) FILTER (WHERE ${inDeviceSet('d.sets', 'active')})::int AS devices,
                  count(*) FILTER (WHERE ${inDeviceSet('d.sets', 'active')})::int AS active_buckets,
                  count(*) FILTER (WHERE ${inDeviceSet('d.sets', 'on_release')})::int AS on_arm_buckets
           FROM rollup_buckets b JOIN rollup_bucket_devices d ON d.bucket_id = b.bucket_id
           WHERE b.release_id = $1 AND b.bucket_ms = $2 AND b.cohort LIKE 'arm:%'
           GROUP BY b.cohort`,
          [releaseId, stepMs],
        ),
        // A guarded feature the app does not keep (yet) has no slot and no row: 0 uses.
        db.query<ArmFeatureRow>(
          `SELECT b.cohort, f.feature, coalesce(sum(b.feature_uses[f.slot]), 0)::int AS uses
           FROM experiments e
           JOIN releases r ON r.id = e.release_id
           JOIN rollup_feature_names f ON f.app_id = r.app_id
             AND f.feature IN (SELECT g->>'feature' FROM jsonb_array_elements(coalesce(e.definition->'metricGuardrails', '[]'::jsonb)) AS g)
           JOIN rollup_buckets b ON b.release_id = e.release_id
           WHERE e.release_id = $1 AND b.bucket_ms = $2 AND b.cohort LIKE 'arm:%'
           GROUP BY b.cohort, f.feature`,
          [releaseId, stepMs],
        ),
      ]);
      const result: Record<string, ArmMetrics> = {};
      const of = (cohort: string) => {
        const arm = armOfCohort(cohort)!;
        return (result[arm] ??= { ...NO_METRICS });
      };
      for (const row of counters.rows) {
        Object.assign(of(row.cohort), {
          timedSessions: row.timed_sessions,
          sessionMsSum: row.session_ms_sum,
          sessionMsSquares: row.session_ms_squares,
          installsOk: row.installs_ok,
          installsFailed: row.installs_failed,
          sessions: row.sessions,
          featureUses: row.feature_uses,
        });
      }
      for (const row of guarded.rows) {
        const metrics = of(row.cohort);
        metrics.guardedFeatureUses = { ...metrics.guardedFeatureUses, [row.feature]: row.uses };
      }
      for (const row of devices.rows) {
        Object.assign(of(row.cohort), { devices: row.devices, activeDeviceBuckets: row.active_buckets, onArmDeviceBuckets: row.on_arm_buckets });
      }
      return result;
    },

    async keptFeatureNames(appId) {
      const { rows } = await db.query<{ feature: string }>('SELECT n.feature FROM rollup_feature_names n WHERE n.app_id = $1 ORDER BY n.slot', [appId]);
      return rows.map((r) => r.feature);
    },
  };
}
