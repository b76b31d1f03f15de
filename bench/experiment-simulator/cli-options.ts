import { parseArgs } from 'node:util';
import { integer, optionalNumber } from '../gate-simulator/cli-options';
import { DEFAULT_EXPERIMENT_OPTIONS, type ExperimentSimulationOptions } from './run-experiment-simulation';

export interface ExperimentCliOptions {
  simulation: ExperimentSimulationOptions;
  jsonFile: string | null;
  help: boolean;
}

const d = DEFAULT_EXPERIMENT_OPTIONS;

export const USAGE = `npm run sim:experiments -- [options]

  --replicates N        replicates per cell (default ${d.replicates})
  --seed S              integer seed; same seed, same tables (default ${d.seed})
  --json FILE           also write the results as JSON
  --alpha A             the experiment's α (default ${d.alpha})
  --tuning N            total units of two arms where the sequences are tightest (default ${d.tuning})
  --min-sample N        units per arm before any verdict, for every method (default ${d.minSamplePerArm})
  --horizon-days D      length of the no-difference experiments, looked at every hour (default ${d.horizonDays})
  --max-days D          give up on a real difference after D days (default ${d.maxDays})
  --lift X              true effect of the treatment in the sample-size runs (default ${d.lift})
  --units-per-hour N    mean units (sessions) per arm per hour, ±50 % over the day (default ${d.model.unitsPerArmHour})
  --session-sigma S     log-scale σ of session durations (default ${d.model.sessionSigma})
  --proportion P        baseline share of units with the event (default ${d.model.baseProportion})
  --help`;

export function parseExperimentCliOptions(argv: readonly string[]): ExperimentCliOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      replicates: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
      alpha: { type: 'string' },
      tuning: { type: 'string' },
      'min-sample': { type: 'string' },
      'horizon-days': { type: 'string' },
      'max-days': { type: 'string' },
      lift: { type: 'string' },
      'units-per-hour': { type: 'string' },
      'session-sigma': { type: 'string' },
      proportion: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const simulation: ExperimentSimulationOptions = {
    replicates: integer('replicates', values.replicates, d.replicates, 1),
    seed: integer('seed', values.seed, d.seed, 0),
    alpha: optionalNumber('alpha', values.alpha, d.alpha, 1e-6, 0.5),
    tuning: optionalNumber('tuning', values.tuning, d.tuning, 1, Number.MAX_SAFE_INTEGER),
    minSamplePerArm: integer('min-sample', values['min-sample'], d.minSamplePerArm, 2),
    horizonDays: integer('horizon-days', values['horizon-days'], d.horizonDays, 1),
    maxDays: integer('max-days', values['max-days'], d.maxDays, 1),
    lift: optionalNumber('lift', values.lift, d.lift, 1.0001, 10),
    power: d.power,
    model: {
      ...d.model,
      unitsPerArmHour: optionalNumber('units-per-hour', values['units-per-hour'], d.model.unitsPerArmHour, 1, 1_000_000),
      sessionSigma: optionalNumber('session-sigma', values['session-sigma'], d.model.sessionSigma, 0.01, 3),
      baseProportion: optionalNumber('proportion', values.proportion, d.model.baseProportion, 1e-4, 0.9),
    },
  };
  return { simulation, jsonFile: values.json ?? null, help: values.help === true };
}
