import { GATE_METRICS, type GateMetric } from '../../domain/gates/gate-spec';
import type { CohortCounts, GateWindow } from '../../domain/gates/gate-types';
import type { Queryable } from '../create-pool';

/** Bit of each gate metric in `release_device_windows.metrics`. */
const METRIC_BITS: Record<GateMetric, number> = { crash: 1, js_error: 2, boot_failed: 4, install_failed: 8 };

/** The `release_device_windows.metrics` value of a device-window that saw these metrics. */
export function metricBits(metrics: Iterable<GateMetric>): number {
  let bits = 0;
  for (const metric of metrics) bits |= METRIC_BITS[metric];
  return bits;
}

type WindowRow = {
  segment: string;
  canary_slice: number;
  control_slice: number;
  canary_devices: number;
  control_devices: number;
} & Record<`${'canary' | 'control'}_${GateMetric}`, number>;

const metricColumns = (['canary', 'control'] as const).flatMap((slice) =>
  GATE_METRICS.map(
    (metric) =>
      `count(DISTINCT w.device_id) FILTER (WHERE w.slice = '${slice}' AND w.on_cohort_bundle AND (w.metrics & ${METRIC_BITS[metric]}) <> 0)::int AS ${slice}_${metric}`,
  ),
);

const WINDOW_QUERY = `
  SELECT w.segment,
         count(DISTINCT w.device_id) FILTER (WHERE w.slice = 'canary')::int AS canary_slice,
         count(DISTINCT w.device_id) FILTER (WHERE w.slice = 'control')::int AS control_slice,
         count(DISTINCT w.device_id) FILTER (WHERE w.slice = 'canary' AND w.on_cohort_bundle)::int AS canary_devices,
         count(DISTINCT w.device_id) FILTER (WHERE w.slice = 'control' AND w.on_cohort_bundle)::int AS control_devices,
         ${metricColumns.join(',\n         ')}
  FROM release_device_windows w
  WHERE w.release_id = $1 AND w.window_start >= $2 AND w.window_start < $3
  GROUP BY w.segment`;

function cohort(row: WindowRow, slice: 'canary' | 'control'): CohortCounts {
  const events = Object.fromEntries(GATE_METRICS.map((m) => [m, row[`${slice}_${m}`]])) as Record<GateMetric, number>;
  return { devices: row[`${slice}_devices`], events };
}

export interface GateWindowStore {
  /** Distinct-device counts per segment and cohort over the counting windows in `[from, to)`. */
  read(releaseId: string, from: number, to: number): Promise<GateWindow>;
}

export function createGateWindowStore(db: Queryable): GateWindowStore {
  return {
    async read(releaseId, from, to) {
      const { rows } = await db.query<WindowRow>(WINDOW_QUERY, [releaseId, new Date(from), new Date(to)]);
      const segments: GateWindow['segments'] = {};
      for (const row of rows) {
        segments[row.segment] = {
          canary: cohort(row, 'canary'),
          control: cohort(row, 'control'),
          canarySliceDevices: row.canary_slice,
          controlSliceDevices: row.control_slice,
        };
      }
      return { start: from, end: to, segments };
    },
  };
}
