import { writeFileSync } from 'node:fs';
import { type CliOptions, USAGE, parseCliOptions } from './cli-options';
import { resultsTable, rollbackTable } from './format-table';
import { runSimulation } from './run-simulation';

function parsedOrUsage(argv: readonly string[]): CliOptions | null {
  try {
    return parseCliOptions(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return null;
  }
}

function main(): void {
  const cli = parsedOrUsage(process.argv.slice(2));
  if (cli === null) return;
  if (cli.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const options = cli.simulation;
  const started = performance.now();
  const cells = runSimulation(options, (cell) => {
    const elapsed = ((performance.now() - started) / 1000).toFixed(1);
    process.stderr.write(`  ${cell.gate} R=${cell.ratio}: ${cell.rollbacks}/${cell.replicates} rolled back (${elapsed} s)\n`);
  });
  const runtimeSeconds = (performance.now() - started) / 1000;
  const command = ['npm run sim:gates --', ...process.argv.slice(2)].join(' ');

  process.stdout.write(
    [
      `Gate simulator — plan ${options.plan}, ${options.fleetDevices.toLocaleString('en-US')} devices, ${options.control} control, ` +
        `seed ${options.seed}, ${options.replicates} replicates per cell, ${options.horizonHours} h horizon, hourly checks`,
      `command: ${command}`,
      `runtime: ${runtimeSeconds.toFixed(1)} s`,
      '',
      resultsTable(cells),
      '',
      rollbackTable(cells),
      '',
    ].join('\n'),
  );
  if (cli.jsonFile !== null) {
    writeFileSync(cli.jsonFile, `${JSON.stringify({ command, options, runtimeSeconds, cells }, null, 2)}\n`);
    process.stderr.write(`wrote ${cli.jsonFile}\n`);
  }
}

main();
