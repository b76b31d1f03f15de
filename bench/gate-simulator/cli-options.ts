import { parseArgs } from 'node:util';
import { PLAN_CHOICES } from './alternative-plans';
import { DEFAULT_OPTIONS, type SimulationOptions } from './run-simulation';
import { GATE_VARIANTS, type GateVariant } from './sim-plans';

export interface CliOptions {
  simulation: SimulationOptions;
  /** Run the attacker model (rampart gates only) instead of the gate comparison. */
  attacks: boolean;
  jsonFile: string | null;
  help: boolean;
}

const d = DEFAULT_OPTIONS;

export const USAGE = `npm run sim:gates -- [options]

  --replicates N        replicates per (gate, R) cell (default ${d.replicates})
  --seed S              integer seed; same seed, same table (default ${d.seed})
  --json FILE           also write the table as JSON
  --fleet N             devices in the fleet (default ${d.fleetDevices})
  --ratios LIST         true crash-rate ratios R of the new bundle (default ${d.ratios.join(',')})
  --gates LIST          ${GATE_VARIANTS.join(',')} (default all)
  --plan NAME           ${PLAN_CHOICES.join(', ')} (default ${d.plan})
  --alpha A             override the plan's per-release α (default: the plan's, 0.01)
  --beta SHARE          add a beta segment holding SHARE of the fleet, e.g. 0.02 (default none)
  --beta-activity X     beta devices are X times as active (default ${d.betaActivity})
  --unmatched           control = every device not on the new bundle (no placebo)
  --adopter-bias X      base rates of devices that applied an update × X (default 1; 1.15 with --unmatched)
  --onset H             the defect starts H hours into the release (default ${d.onsetHour})
  --js-ratio X          the new bundle also multiplies the JS-error rate by X (default ${d.jsErrorRatio})
  --crash-rate P        baseline P(crash | active device-hour) (default ${d.crashRate})
  --js-rate P           baseline P(JS error | active device-hour) (default ${d.jsErrorRate})
  --boot-fail-rate P    boot failures per active canary device-hour (default ${d.bootFailureRate})
  --install-fail-rate P install failures per active canary device-hour (default ${d.installFailureRate})
  --active F            mean hourly active fraction (default ${d.activeFraction})
  --hazard H            hourly adoption hazard of eligible devices (default ${d.adoptionHazard})
  --start-hour H        local hour the release starts; activity peaks at 20:00 (default ${d.startHour})
  --horizon-hours H     simulated hours per release (default ${d.horizonHours})
  --attacks             the attacker model instead: forged failures and look-alike padding
                        against the rampart gates (README, "Trust model for telemetry")
  --on-pause P          resume: the paged human resumes at once; stop: the run ends paused (default ${d.onPause})
  --help`;

export function parseCliOptions(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      replicates: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
      fleet: { type: 'string' },
      ratios: { type: 'string' },
      gates: { type: 'string' },
      plan: { type: 'string' },
      alpha: { type: 'string' },
      beta: { type: 'string' },
      'beta-activity': { type: 'string' },
      unmatched: { type: 'boolean' },
      'adopter-bias': { type: 'string' },
      onset: { type: 'string' },
      'js-ratio': { type: 'string' },
      'crash-rate': { type: 'string' },
      'js-rate': { type: 'string' },
      'boot-fail-rate': { type: 'string' },
      'install-fail-rate': { type: 'string' },
      active: { type: 'string' },
      hazard: { type: 'string' },
      'start-hour': { type: 'string' },
      'horizon-hours': { type: 'string' },
      'on-pause': { type: 'string' },
      attacks: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const unmatched = values.unmatched === true;
  const simulation: SimulationOptions = {
    replicates: integer('replicates', values.replicates, d.replicates, 1),
    seed: integer('seed', values.seed, d.seed, 0),
    fleetDevices: integer('fleet', values.fleet, d.fleetDevices, 1000),
    ratios: values.ratios === undefined ? d.ratios : values.ratios.split(',').map((r) => number('ratios', r, 0, Infinity)),
    gates: values.gates === undefined ? d.gates : values.gates.split(',').map(gateVariant),
    plan: planChoice(values.plan ?? d.plan),
    alpha: values.alpha === undefined ? null : number('alpha', values.alpha, 0, 0.5),
    betaShare: optionalNumber('beta', values.beta, d.betaShare, 0, 0.5),
    betaActivity: optionalNumber('beta-activity', values['beta-activity'], d.betaActivity, 0, Infinity),
    control: unmatched ? 'unmatched' : 'matched',
    adopterBias: optionalNumber('adopter-bias', values['adopter-bias'], unmatched ? 1.15 : d.adopterBias, 0, Infinity),
    onsetHour: optionalNumber('onset', values.onset, d.onsetHour, 0, Infinity),
    jsErrorRatio: optionalNumber('js-ratio', values['js-ratio'], d.jsErrorRatio, 0, Infinity),
    crashRate: optionalNumber('crash-rate', values['crash-rate'], d.crashRate, 0, 1),
    jsErrorRate: optionalNumber('js-rate', values['js-rate'], d.jsErrorRate, 0, 1),
    bootFailureRate: optionalNumber('boot-fail-rate', values['boot-fail-rate'], d.bootFailureRate, 0, 1),
    installFailureRate: optionalNumber('install-fail-rate', values['install-fail-rate'], d.installFailureRate, 0, 1),
    activeFraction: optionalNumber('active', values.active, d.activeFraction, 0, 1),
    adoptionHazard: optionalNumber('hazard', values.hazard, d.adoptionHazard, 0, Infinity),
    startHour: optionalNumber('start-hour', values['start-hour'], d.startHour, 0, 24),
    horizonHours: integer('horizon-hours', values['horizon-hours'], d.horizonHours, 1),
    onPause: pausePolicy(values['on-pause'] ?? d.onPause),
  };
  return { simulation, attacks: values.attacks === true, jsonFile: values.json ?? null, help: values.help === true };
}

function number(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`--${name}: expected a number in [${min}, ${max}], got "${text}"`);
  }
  return value;
}

export function optionalNumber(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  return text === undefined ? fallback : number(name, text, min, max);
}

export function integer(name: string, text: string | undefined, fallback: number, min: number): number {
  const value = optionalNumber(name, text, fallback, min, Number.MAX_SAFE_INTEGER);
  if (!Number.isInteger(value)) throw new Error(`--${name}: expected an integer, got "${text}"`);
  return value;
}

function gateVariant(name: string): GateVariant {
  const variant = GATE_VARIANTS.find((v) => v === name);
  if (variant === undefined) throw new Error(`--gates: unknown gate "${name}"; use ${GATE_VARIANTS.join(', ')}`);
  return variant;
}

function planChoice(name: string): string {
  if (!PLAN_CHOICES.includes(name)) throw new Error(`--plan: unknown plan "${name}"; use one of ${PLAN_CHOICES.join(', ')}`);
  return name;
}

function pausePolicy(name: string): SimulationOptions['onPause'] {
  if (name !== 'resume' && name !== 'stop') throw new Error(`--on-pause: expected resume or stop, got "${name}"`);
  return name;
}

/**
 * The simulators' command line: the parsed options, or null after printing usage — to stdout with
 * --help, to stderr with the parse error (exit code 2) otherwise.
 */
export function parsedOrUsage<T extends { help: boolean }>(argv: readonly string[], parse: (argv: readonly string[]) => T, usage: string): T | null {
  try {
    const options = parse(argv);
    if (!options.help) return options;
    process.stdout.write(`${usage}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${usage}\n`);
    process.exitCode = 2;
  }
  return null;
}
