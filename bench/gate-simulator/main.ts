import { writeFileSync } from 'node:fs';
import { type CliOptions, USAGE, parseCliOptions, parsedOrUsage } from './cli-options';
import type { Attack } from './attacker-model';
import { attackTable, resultsTable, rollbackTable } from './format-table';
import { runAttackSimulation, runSimulation } from './run-simulation';

/** The honest fleet; forged failures at every size, both timings, on a good release; padding on regressed ones. */
const ATTACKS: ReadonlyArray<{ attack: Attack; ratios: readonly number[] }> = [
  // The honest fleet through the trust model (every device a veteran), against the same runs without it.
  { attack: { kind: 'none' }, ratios: [1, 2] },
  ...[1, 3, 30, 300, 3000].flatMap((ids) =>
    (['at-once', 'after-a-window'] as const).map((timing) => ({ attack: { kind: 'forged-failures', ids, timing } as const, ratios: [1] })),
  ),
  ...[10, 100, 1000, 10_000].map((ids) => ({ attack: { kind: 'padding', ids } as const, ratios: [1.5, 2, 3] })),
];

function attackReport(cli: CliOptions, started: number): string[] {
  const cells = runAttackSimulation(cli.simulation, ATTACKS, (cell) => {
    process.stderr.write(`  ${cell.attack} R=${cell.ratio}: ${cell.rollbacksCaused} caused, ${cell.stagesAdvanced} advanced (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  });
  return [attackTable(cells)];
}

function main(): void {
  const cli = parsedOrUsage(process.argv.slice(2), parseCliOptions, USAGE);
  if (cli === null) return;
  const options = cli.simulation;
  const started = performance.now();
  const tables = cli.attacks ? attackReport(cli, started) : comparison(cli, started);
  const runtimeSeconds = (performance.now() - started) / 1000;
  const command = ['npm run sim:gates --', ...process.argv.slice(2)].join(' ');

  process.stdout.write(
    [
      `Gate simulator — plan ${options.plan}, ${options.fleetDevices.toLocaleString('en-US')} devices, ${options.control} control, ` +
        `seed ${options.seed}, ${options.replicates} replicates per cell, ${options.horizonHours} h horizon, hourly checks`,
      `command: ${command}`,
      `runtime: ${runtimeSeconds.toFixed(1)} s`,
      '',
      ...tables.flatMap((t) => [t, '']),
    ].join('\n'),
  );
}

function comparison(cli: CliOptions, started: number): string[] {
  const cells = runSimulation(cli.simulation, (cell) => {
    const elapsed = ((performance.now() - started) / 1000).toFixed(1);
    process.stderr.write(`  ${cell.gate} R=${cell.ratio}: ${cell.rollbacks}/${cell.replicates} rolled back (${elapsed} s)\n`);
  });
  if (cli.jsonFile !== null) {
    writeFileSync(cli.jsonFile, `${JSON.stringify({ command: ['npm run sim:gates --', ...process.argv.slice(2)].join(' '), options: cli.simulation, cells }, null, 2)}\n`);
    process.stderr.write(`wrote ${cli.jsonFile}\n`);
  }
  return [resultsTable(cells), rollbackTable(cells)];
}

main();
