import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parsedOrUsage } from '../gate-simulator/cli-options';
import { USAGE, parseExperimentCliOptions } from './cli-options';
import { falseWinnerTable, sampleSizeTable } from './format-experiment-tables';
import { runExperimentSimulation } from './run-experiment-simulation';

function main(): void {
  const cli = parsedOrUsage(process.argv.slice(2), parseExperimentCliOptions, USAGE);
  if (cli === null) return;
  const o = cli.simulation;
  const started = performance.now();
  const result = runExperimentSimulation(o, (label) => {
    process.stderr.write(`  ${label} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  });
  const runtimeSeconds = (performance.now() - started) / 1000;
  const command = ['npm run sim:experiments --', ...process.argv.slice(2)].join(' ');
  if (cli.jsonFile !== null) {
    writeFileSync(cli.jsonFile, `${JSON.stringify({ command, options: o, ...result }, null, 2)}\n`);
    process.stderr.write(`wrote ${cli.jsonFile}\n`);
  }
  const m = o.model;
  process.stdout.write(
    [
      `Experiment simulator — seed ${o.seed}, ${o.replicates} replicates per cell, α ${o.alpha}, tuning ${o.tuning}, ` +
        `minimum ${o.minSamplePerArm} units per arm, ${m.unitsPerArmHour} units per arm per hour (±50 % daily), ` +
        `session duration log-normal (mean ${m.meanSessionMs / 1000} s, σ ${m.sessionSigma}), event share ${m.baseProportion}`,
      `command: ${command}`,
      `runtime: ${runtimeSeconds.toFixed(1)} s, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
      '',
      `(a) No true difference, ${o.horizonDays} days: share of experiments in which a method ever declared an arm better or worse than the control`,
      '',
      falseWinnerTable(result.falseWinners),
      '',
      `(b) Treatment truly ${((o.lift - 1) * 100).toFixed(0)} % better: units per arm until the difference is declared (${o.maxDays}-day cap), ` +
        `against the fixed-horizon plan for ${(o.power * 100).toFixed(0)} % power at two-sided α ${o.alpha}`,
      '',
      sampleSizeTable(result.sampleSizes),
      '',
    ].join('\n'),
  );
}

main();
