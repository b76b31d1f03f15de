import { wilsonInterval, type Interval } from './gates/intervals';
import { DURATION_BIN_EDGES_MS, histogramQuantile, type DurationRange, type RollupHistogram } from './insight';

/** What rollups hold for one bucket (or a range) of one segment and cohort. */
export interface RollupFigures {
  activeDevices: number;
  onReleaseDevices: number;
  crashedDevices: number;
  jsErrorDevices: number;
  installsOk: number;
  installsFailed: number;
  sessions: number;
  /** Counts by bin of `DURATION_BIN_EDGES_MS`. */
  histograms: Record<RollupHistogram, number[]>;
  features: Map<string, number>;
}

export interface InsightFigures {
  activeDevices: number;
  devicesOnRelease: number;
  /** Share of active devices that ran the release's bundle; null without active devices. */
  adoption: number | null;
  installs: { ok: number; failed: number };
  /** ok ÷ (ok + failed) with its 95 % Wilson interval; null without installs. */
  updateSuccess: { rate: number; interval: Interval } | null;
  sessions: number;
  /** Bins holding the median and the 90th percentile: exact to a bin. */
  sessionDurationMs: { p50: DurationRange | null; p90: DurationRange | null };
  installDurationMs: { p50: DurationRange | null; p90: DurationRange | null };
  crashFreeRate: number | null;
  crashDeviceRate: number | null;
  jsErrorDeviceRate: number | null;
  topFeatures: Array<{ feature: string; uses: number }>;
}

export const TOP_FEATURES = 10;

export function emptyFigures(): RollupFigures {
  const bins = () => new Array<number>(DURATION_BIN_EDGES_MS.length).fill(0);
  return {
    activeDevices: 0,
    onReleaseDevices: 0,
    crashedDevices: 0,
    jsErrorDevices: 0,
    installsOk: 0,
    installsFailed: 0,
    sessions: 0,
    histograms: { session_duration: bins(), install_duration: bins() },
    features: new Map(),
  };
}

/** Adds what is additive (counts, histograms, feature uses) of `from` into `into`; distinct counts are not. */
export function addAdditive(into: RollupFigures, from: RollupFigures): void {
  into.installsOk += from.installsOk;
  into.installsFailed += from.installsFailed;
  into.sessions += from.sessions;
  for (const name of Object.keys(into.histograms) as RollupHistogram[]) {
    from.histograms[name].forEach((count, bin) => (into.histograms[name][bin]! += count));
  }
  for (const [feature, uses] of from.features) into.features.set(feature, (into.features.get(feature) ?? 0) + uses);
}

const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);

const quantiles = (counts: readonly number[]) => ({ p50: histogramQuantile(counts, 0.5), p90: histogramQuantile(counts, 0.9) });

export function insightFigures(f: RollupFigures): InsightFigures {
  const installs = f.installsOk + f.installsFailed;
  const interval = wilsonInterval(f.installsOk, installs);
  const crashShare = share(f.crashedDevices, f.activeDevices);
  return {
    activeDevices: f.activeDevices,
    devicesOnRelease: f.onReleaseDevices,
    adoption: share(f.onReleaseDevices, f.activeDevices),
    installs: { ok: f.installsOk, failed: f.installsFailed },
    updateSuccess: interval ? { rate: f.installsOk / installs, interval } : null,
    sessions: f.sessions,
    sessionDurationMs: quantiles(f.histograms.session_duration),
    installDurationMs: quantiles(f.histograms.install_duration),
    crashFreeRate: crashShare === null ? null : 1 - crashShare,
    crashDeviceRate: crashShare,
    jsErrorDeviceRate: share(f.jsErrorDevices, f.activeDevices),
    topFeatures: [...f.features]
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
      .slice(0, TOP_FEATURES)
      .map(([feature, uses]) => ({ feature, uses })),
  };
}

/** Figures that need distinct devices over a whole range, not per bucket. */
const DISTINCT_FIGURES = ['activeDevices', 'devicesOnRelease', 'adoption', 'crashFreeRate', 'crashDeviceRate', 'jsErrorDeviceRate'] as const;
type DistinctFigure = (typeof DISTINCT_FIGURES)[number];

/** Figures over a range; the distinct-device ones are null once the range reaches where memberships were purged. */
export type InsightTotals = Omit<InsightFigures, DistinctFigure> & { [K in DistinctFigure]: InsightFigures[K] | null };

export function insightTotals(f: RollupFigures, distinctKnown: boolean): InsightTotals {
  const figures: InsightTotals = insightFigures(f);
  if (!distinctKnown) for (const name of DISTINCT_FIGURES) figures[name] = null;
  return figures;
}
