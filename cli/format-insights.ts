import { wilsonInterval } from '../domain/gates/intervals';
import type { DurationRange } from '../domain/insight';
import type { Exposure } from '../domain/release';
import { formatDuration } from './format-duration';
import type { InsightsAnswer } from './insights-answer';

type Series = InsightsAnswer['series'][number];

const HEADER = ['segment', 'exposure', 'adoption', 'to 95 %', 'update success (95 % interval)', 'crash-free canary / control', 'session p50 (canary)'];

const percent = (share: number | null | undefined, digits = 1) => (share === null || share === undefined ? '–' : `${(share * 100).toFixed(digits)} %`);

function durationRange(range: DurationRange | null | undefined): string {
  if (!range) return '–';
  return range.toMs === null ? `≥ ${formatDuration(range.fromMs)}` : `${formatDuration(range.fromMs)}–${formatDuration(range.toMs)}`;
}

/** The latest bucket's adoption, with its devices. */
function latestAdoption(adoption: InsightsAnswer['adoption'][number] | undefined): string {
  const last = adoption?.curve.at(-1);
  return last ? `${percent(last.adoption)} (${last.devicesOnRelease}/${last.activeDevices})` : '–';
}

/** One line per segment for `release watch`: where adoption stands and when it reached 95 %. */
export function formatAdoptionLines(insights: InsightsAnswer): string[] {
  return insights.adoption.map((a) => {
    const to95 = a.timeToAdoption['95'];
    const withdrawn = a.devicesOnWithdrawnBundle === null ? '' : `, ${a.devicesOnWithdrawnBundle} still on the withdrawn bundle`;
    return `adoption ${a.segment} ${latestAdoption(a)}, ${to95 ? `95 % after ${formatDuration(to95.afterMs)}` : 'not at 95 % yet'}${withdrawn}`;
  });
}

/** Installs of every cohort together: counts add up, so their rate and interval are exact. */
function updateSuccess(series: readonly Series[]): string {
  const ok = series.reduce((n, s) => n + s.totals.installs.ok, 0);
  const failed = series.reduce((n, s) => n + s.totals.installs.failed, 0);
  const interval = wilsonInterval(ok, ok + failed);
  if (!interval) return '–';
  return `${percent(ok / (ok + failed))} [${percent(interval[0])}–${percent(interval[1])}] (${ok}/${ok + failed})`;
}

function segmentRow(segment: string, insights: InsightsAnswer, exposure: Exposure): string[] {
  const series = insights.series.filter((s) => s.segment === segment);
  const cohort = (name: Series['cohort']) => series.find((s) => s.cohort === name)?.totals;
  const adoption = insights.adoption.find((a) => a.segment === segment);
  const to95 = adoption?.timeToAdoption['95'];
  const bps = exposure[segment];
  return [
    segment,
    bps === undefined ? '–' : `${(bps / 100).toFixed(2)} %`,
    latestAdoption(adoption),
    to95 ? formatDuration(to95.afterMs) : 'not yet',
    updateSuccess(series),
    `${percent(cohort('canary')?.crashFreeRate, 2)} / ${percent(cohort('control')?.crashFreeRate, 2)}`,
    durationRange(cohort('canary')?.sessionDurationMs.p50),
  ];
}

/** Columns padded to their widest cell. */
export function formatTable(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
}

/** Per segment, how a release is doing: one row each, then what a withdrawn bundle left behind. */
export function formatInsights(insights: InsightsAnswer, exposure: Exposure): string[] {
  const segments = [...new Set([...insights.adoption.map((a) => a.segment), ...insights.series.map((s) => s.segment)])];
  const withdrawn = insights.adoption.filter((a) => a.devicesOnWithdrawnBundle !== null);
  return [
    `release ${insights.releaseId}  ${insights.appId} ${insights.version} on ${insights.channel}, ${insights.status}`,
    `buckets of ${insights.step} from ${insights.from} to ${insights.to}; adoption is the latest bucket's, time to 95 % since the release started`,
    ...formatTable([HEADER, ...segments.map((segment) => segmentRow(segment, insights, exposure))]),
    ...(withdrawn.length > 0
      ? [`still on the withdrawn ${insights.version}: ${withdrawn.map((a) => `${a.segment} ${a.devicesOnWithdrawnBundle} devices`).join(', ')}`]
      : []),
  ];
}
