import { markdownTable } from '../gate-simulator/format-table';
import { type FalseWinnerCell, METHODS, type Method, type SampleSizeCell, type StoppingSummary } from './run-experiment-simulation';

const METHOD_LABELS: Record<Method, string> = {
  'sequence-hourly': 'confidence sequence (ours), every hour',
  'sequence-daily': 'confidence sequence (ours), daily',
  't-test-hourly': 'fixed-horizon t-test peeked every hour',
  't-test-daily': 'fixed-horizon t-test peeked daily',
  't-test-once': 't-test once, at its planned sample (the valid use)',
};

const percent = (fraction: number): string => `${(fraction * 100).toFixed(1)} %`;
const units = (value: number | null): string => (value === null ? 'beyond horizon' : Math.round(value).toLocaleString('en-US'));
const metricLabel = (metric: string): string => (metric === 'mean' ? 'session duration (mean)' : 'feature use (proportion)');

/** (a): the share of no-difference experiments in which each method declared a difference. */
export function falseWinnerTable(cells: readonly FalseWinnerCell[]): string {
  return markdownTable(
    ['metric', 'arms', ...METHODS.map((m) => METHOD_LABELS[m]), 'session_duration guardrail (ours, no allowed drop), every hour: arms stopped'],
    cells.map((c) => [
      metricLabel(c.metric),
      String(c.arms),
      ...METHODS.map((m) => `${percent(c.decisions[m] / c.replicates)} (${c.decisions[m]}/${c.replicates})`),
      c.guardrailStops === null ? '–' : `${percent(c.guardrailStops / c.replicates)} (${c.guardrailStops}/${c.replicates})`,
    ]),
  );
}

/** (b): units per arm until a true difference is declared, against the fixed-horizon plan. */
export function sampleSizeTable(cells: readonly SampleSizeCell[]): string {
  const row = (c: SampleSizeCell, method: string, s: StoppingSummary): string[] => [
    metricLabel(c.metric),
    method,
    percent(s.power),
    String(s.wrongDirection),
    `${units(s.medianSample)} / ${units(s.p80Sample)} / ${units(s.p90Sample)}`,
    s.p80Sample === null ? '–' : `${(s.p80Sample / c.plannedSamplePerArm).toFixed(2)}×`,
  ];
  return markdownTable(
    ['metric', 'method', 'power (within horizon)', 'wrong direction', 'units per arm at decision: median / p80 / p90', 'p80 ÷ planned'],
    cells.flatMap((c) => [
      row(c, 'confidence sequence (ours), every hour', c.sequence),
      [metricLabel(c.metric), 'fixed-horizon t-test at its planned sample', percent(c.tTestOncePower), '–', `${units(c.plannedSamplePerArm)} (planned)`, '1.00×'],
      row(c, 't-test peeked daily (invalid: see the false-winner table)', c.tTestDaily),
    ]),
  );
}
