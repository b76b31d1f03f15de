import { GATE_METRICS, type GateMetric } from '../../domain/gates/gate-spec';
import type { CohortCounts, GateWindow, WindowTrust } from '../../domain/gates/gate-types';
import type { Queryable } from '../create-pool';

/**
 * The advisory lock that makes a gate's read a barrier for telemetry batches, one per release (README,
 * "Late telemetry and the gate's barrier"): a batch holds its releases' locks shared while it writes
 * their device-windows (telemetry-store.ts), a gate read takes its release's exclusively first.
 * `keyOf` turns an SQL expression of a release id into the lock's key; a collision only makes a gate
 * wait for another release's batches too.
 */
export const WINDOW_BARRIER = { lockClass: 0x52574247, keyOf: (releaseIdSql: string) => `hashtext(${releaseIdSql})` } as const;

/**
 * Waits for the release's batches in flight, in autocommit: the statement is the lock's transaction,
 * so it lets go at once. The clock is read after the lock is granted, on the clock batches file by.
 */
const BARRIER_SQL = `
  WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(${WINDOW_BARRIER.lockClass}, ${WINDOW_BARRIER.keyOf('$1')}))
  SELECT clock_timestamp() AS at FROM locked`;

/** Bit of each gate metric in `release_device_windows.metrics`. */
const METRIC_BITS: Record<GateMetric, number> = { crash: 1, js_error: 2, boot_failed: 4, install_failed: 8 };

/** The `release_device_windows.metrics` value of a device-window that saw these metrics. */
export function metricBits(metrics: Iterable<GateMetric>): number {
  let bits = 0;
  for (const metric of metrics) bits |= METRIC_BITS[metric];
  return bits;
}

type TrustColumns = 'veteran' | 'newcomer' | 'fresh' | 'unserved' | 'veteran_failing' | 'newcomer_failing' | 'set_aside_failing' | `veteran_${'canary' | 'control'}_devices`;

type WindowRow = {
  segment: string;
  canary_slice: number;
  control_slice: number;
  canary_devices: number;
  control_devices: number;
} & Record<`${'' | 'veteran_'}${'canary' | 'control'}_${GateMetric}`, number> &
  Record<TrustColumns, number>;

const ESTABLISHED = `t.trust IN ('veteran', 'newcomer')`;
/** The slices compared, `$4` (canary) and `$5` (control): a release's two, or an experiment's treatment arm and control arm. */
const SLICE_PARAM = { canary: '$4', control: '$5' } as const;
const FAILING = `t.slice = ${SLICE_PARAM.canary} AND t.on_cohort_bundle AND t.metrics <> 0`;

const VETERAN = `t.trust = 'veteran'`;

const metricColumns = (['canary', 'control'] as const).flatMap((slice) =>
  GATE_METRICS.flatMap((metric) => {
    const where = `t.slice = ${SLICE_PARAM[slice]} AND t.on_cohort_bundle AND (t.metrics & ${METRIC_BITS[metric]}) <> 0`;
    return [
      `count(DISTINCT t.device_id) FILTER (WHERE ${ESTABLISHED} AND ${where})::int AS ${slice}_${metric}`,
      `count(DISTINCT t.device_id) FILTER (WHERE ${VETERAN} AND ${where})::int AS veteran_${slice}_${metric}`,
    ];
  }),
);

/**
 * The trust model (domain/gates/telemetry-trust.ts): a device-window is `veteran` when the device
 * was seen before the release started, `newcomer` when a check served it in the release's slices at
 * least one window before this window, `fresh` when it was served later than that, `unserved` when
 * never. The gate's counts hold established devices only; the rest is counted to be set aside.
 * The slice sizes for the sample-ratio check count every device: when a stage grows, the canary
 * slice takes over the last stage's control devices, already established, while the new control
 * devices are all fresh for a window, so established-only slices would look mismatched after every
 * stage change.
 */
const WINDOW_QUERY = `
  WITH t AS (
    SELECT w.segment, w.device_id, w.slice, w.on_cohort_bundle, w.metrics,
           CASE WHEN d.first_seen < r.created_at THEN 'veteran'
                WHEN s.first_served_at <= w.window_start - make_interval(secs => r.window_ms / 1000.0) THEN 'newcomer'
                WHEN s.first_served_at IS NOT NULL THEN 'fresh'
                ELSE 'unserved' END AS trust
    FROM release_device_windows w
    JOIN releases r ON r.id = w.release_id
    LEFT JOIN devices d ON d.app_id = r.app_id AND d.device_id = w.device_id
    LEFT JOIN release_served_devices s ON s.release_id = w.release_id AND s.device_id = w.device_id
    WHERE w.release_id = $1 AND w.window_start >= $2 AND w.window_start < $3
  )
  SELECT t.segment,
         count(DISTINCT t.device_id) FILTER (WHERE t.slice = ${SLICE_PARAM.canary})::int AS canary_slice,
         count(DISTINCT t.device_id) FILTER (WHERE t.slice = ${SLICE_PARAM.control})::int AS control_slice,
         count(DISTINCT t.device_id) FILTER (WHERE ${ESTABLISHED} AND t.slice = ${SLICE_PARAM.canary} AND t.on_cohort_bundle)::int AS canary_devices,
         count(DISTINCT t.device_id) FILTER (WHERE ${ESTABLISHED} AND t.slice = ${SLICE_PARAM.control} AND t.on_cohort_bundle)::int AS control_devices,
         ${metricColumns.join(',\n         ')},
         count(DISTINCT t.device_id) FILTER (WHERE ${VETERAN} AND t.slice = ${SLICE_PARAM.canary} AND t.on_cohort_bundle)::int AS veteran_canary_devices,
         count(DISTINCT t.device_id) FILTER (WHERE ${VETERAN} AND t.slice = ${SLICE_PARAM.control} AND t.on_cohort_bundle)::int AS veteran_control_devices,
         count(DISTINCT t.device_id) FILTER (WHERE t.trust = 'veteran')::int AS veteran,
         count(DISTINCT t.device_id) FILTER (WHERE t.trust = 'newcomer')::int AS newcomer,
         count(DISTINCT t.device_id) FILTER (WHERE t.trust = 'fresh')::int AS fresh,
         count(DISTINCT t.device_id) FILTER (WHERE t.trust = 'unserved')::int AS unserved,
         count(DISTINCT t.device_id) FILTER (WHERE t.trust = 'veteran' AND ${FAILING})::int AS veteran_failing,
         count(DISTINCT t.device_id) FILTER (WHERE t.trust = 'newcomer' AND ${FAILING})::int AS newcomer_failing,
         count(DISTINCT t.device_id) FILTER (WHERE t.trust IN ('fresh', 'unserved') AND ${FAILING})::int AS set_aside_failing
  FROM t
  GROUP BY t.segment`;

function cohort(row: WindowRow, slice: 'canary' | 'control', only: '' | 'veteran_' = ''): CohortCounts {
  const events = Object.fromEntries(GATE_METRICS.map((m) => [m, row[`${only}${slice}_${m}`]])) as Record<GateMetric, number>;
  return { devices: row[`${only}${slice}_devices`], events };
}

function trustOf(row: WindowRow): WindowTrust {
  return {
    veteranDevices: row.veteran,
    newcomerDevices: row.newcomer,
    freshDevices: row.fresh,
    unservedDevices: row.unserved,
    veteranFailing: row.veteran_failing,
    newcomerFailing: row.newcomer_failing,
    setAsideFailing: row.set_aside_failing,
    veteranCanary: cohort(row, 'canary', 'veteran_'),
    veteranControl: cohort(row, 'control', 'veteran_'),
  };
}

export interface ComparedSlices {
  canary: string;
  control: string;
}

const RELEASE_SLICES: ComparedSlices = { canary: 'canary', control: 'control' };

export interface GateWindowStore {
  /**
   * The barrier a gate passes before it reads: waits until every telemetry batch that holds the
   * release's lock has committed, and answers the database's time then. Every batch not yet committed
   * files its device-windows under the window holding a later time, so the windows that end by then
   * are complete. `db` must not be in a transaction (the lock would be held to its end).
   */
  barrier(releaseId: string): Promise<number>;
  /**
   * Distinct-device counts per segment and cohort over the counting windows in `[from, to)`; an
   * experiment names the slices (arms) to compare as canary and control.
   */
  read(releaseId: string, from: number, to: number, slices?: ComparedSlices): Promise<GateWindow>;
}

export function createGateWindowStore(db: Queryable): GateWindowStore {
  return {
    async barrier(releaseId) {
      const { rows } = await db.query<{ at: Date }>(BARRIER_SQL, [releaseId]);
      return rows[0]!.at.getTime();
    },
    async read(releaseId, from, to, slices = RELEASE_SLICES) {
      const { rows } = await db.query<WindowRow>(WINDOW_QUERY, [releaseId, new Date(from), new Date(to), slices.canary, slices.control]);
      const segments: GateWindow['segments'] = {};
      for (const row of rows) {
        segments[row.segment] = {
          canary: cohort(row, 'canary'),
          control: cohort(row, 'control'),
          canarySliceDevices: row.canary_slice,
          controlSliceDevices: row.control_slice,
          trust: trustOf(row),
        };
      }
      return { start: from, end: to, segments };
    },
  };
}
