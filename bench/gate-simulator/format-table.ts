import type { AttackCell } from './run-simulation';
import type { CellSummary } from './summarize';

const dash = '–';

function percent(fraction: number | null, digits = 1): string {
  return fraction === null ? dash : `${(fraction * 100).toFixed(digits)} %`;
}

function count(value: number | null): string {
  return value === null ? dash : Math.round(value).toLocaleString('en-US');
}

function hours(value: number | null): string {
  return value === null ? dash : `${Math.round(value)} h`;
}

/** A Markdown table with padded columns, so it reads in a terminal and pastes into BENCHMARKS.md. */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The results table (Markdown, so it can go into BENCHMARKS.md as printed). */
export function resultsTable(cells: readonly CellSummary[]): string {
  return markdownTable(
    [
      'gate',
      'R',
      'P(rollback)',
      'exposed at rollback, median / p90',
      '% of fleet, median / p90',
      'h to rollback (median)',
      'no rollback: reached 100 %',
      'h to 100 % (median)',
      'completed (median h)',
      'runs paused',
      'pauses: max soak / data quality',
    ],
    cells.map((c) => [
      c.gate,
      String(c.ratio),
      percent(c.rollbackRate),
      `${count(c.exposedMedian)} / ${count(c.exposedP90)}`,
      `${percent(c.exposedMedianShareOfFleet, 2)} / ${percent(c.exposedP90ShareOfFleet, 2)}`,
      hours(c.hoursToRollbackMedian),
      c.notRolledBack === 0 ? dash : `${percent(c.reachedFullShare)} of ${c.notRolledBack}`,
      hours(c.hoursToFullMedian),
      c.completedShare === null ? dash : `${percent(c.completedShare)} (${hours(c.hoursToCompletedMedian)})`,
      `${c.pausedRuns} / ${c.replicates}`,
      `${c.pauses.maxSoak} / ${c.pauses.dataQuality}`,
    ]),
  );
}

/** Where the rollbacks happened and which finding asked for them. */
export function rollbackTable(cells: readonly CellSummary[]): string {
  const breakdown = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([label, n]) => `${label} ${n}`)
      .join(', ') || dash;
  return markdownTable(
    ['gate', 'R', 'rollbacks', 'at stage', 'asked for by'],
    cells.map((c) => [c.gate, String(c.ratio), String(c.rollbacks), breakdown(c.rollbackStages), breakdown(c.rollbackBy)]),
  );
}

/** The attacker model's table: what each forger achieved against the same replicates without it. */
export function attackTable(cells: readonly AttackCell[]): string {
  return markdownTable(
    ['attack', 'R', 'P(rollback)', 'exposed at rollback (median)', 'rollbacks the attack caused', 'stages the attack advanced', 'completed', 'runs paused', 'data-quality pauses'],
    cells.map((c) => [
      c.attack,
      String(c.ratio),
      percent(c.rollbacks / c.replicates),
      count(c.exposedMedian),
      `${c.rollbacksCaused} / ${c.replicates}`,
      `${c.stagesAdvanced} / ${c.replicates}`,
      percent(c.completed / c.replicates),
      `${c.pausedRuns} / ${c.replicates}`,
      count(c.dataQualityPauses),
    ]),
  );
}
