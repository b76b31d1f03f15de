import { parseArgs } from 'node:util';
import { createLogger } from '../../platform/logger';
import { startLocalStack } from '../../scripts/support/local-stack';
import { fleetPlan } from '../../scripts/fleet/fleet-plan';
import { runFleet, type FleetReport } from '../../scripts/fleet/fleet-simulation';

/*
 * `npm run sim:fleet`: a good release and a bad one (5× crash rate) through the real stack with
 * thousands of simulated devices. The good one must reach 100 %, the bad one must be rolled back
 * on its own and every device sent back. Exits non-zero when either expectation fails.
 */
const USAGE = `usage: npm run sim:fleet -- [--devices 3000] [--bad-ratio 5] [--seed 7]

Runs a good release and a bad one (crash rate × --bad-ratio) through a private stack of its own
(fresh database, own Temporal dev server) with simulated devices; exits non-zero unless the good one
completes and the bad one is rolled back with every device sent back. To drive a fleet against the
stack \`npm start\` runs, use \`npm run demo\`.
`;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        devices: { type: 'string', default: '3000' },
        'bad-ratio': { type: 'string', default: '5' },
        seed: { type: 'string', default: '7' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`sim:fleet: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  const { values } = parsed;
  if (values.help) return void process.stdout.write(USAGE);
  const devices = Number(values.devices);
  const stack = await startLocalStack({ database: 'rampart_fleet', logger: createLogger('fleet', 'warn') });
  const common = {
    baseUrl: stack.baseUrl,
    adminKey: stack.adminKey,
    devices,
    baseCrashRate: 0.02,
    activeShare: 0.4,
    adoptionRate: 0.5,
    target: { kind: 'new', plan: fleetPlan({ checkIntervalMs: 1000, minSoakChecks: 5, maxSoakChecks: 60, alpha: 0.01 }) } as const,
    timeoutMs: 240_000,
    seed: Number(values.seed),
    log: (line: string) => process.stdout.write(`  ${line}\n`),
  };
  const reports: Array<[string, FleetReport]> = [];
  try {
    process.stdout.write(`good release (R = 1), ${devices} devices:\n`);
    reports.push(['good (R = 1)', await runFleet({ ...common, appId: 'com.example.fleet.good', crashRatio: 1 })]);
    process.stdout.write(`bad release (R = ${values['bad-ratio']}), ${devices} devices:\n`);
    reports.push([`bad (R = ${values['bad-ratio']})`, await runFleet({ ...common, appId: 'com.example.fleet.bad', crashRatio: Number(values['bad-ratio']) })]);
  } finally {
    await stack.stop();
  }

  process.stdout.write('\nscenario        outcome       exposed (share)     seconds to outcome   still on withdrawn   seconds until all back   requests\n');
  for (const [name, r] of reports) {
    process.stdout.write(
      `${name.padEnd(15)} ${r.outcome.padEnd(13)} ${String(r.exposed).padStart(6)} (${(r.exposedShare * 100).toFixed(2)} %)     ${r.secondsToOutcome.toFixed(1).padStart(8)}             ${String(r.stillOnWithdrawn).padStart(6)}               ${r.secondsToAllBack === null ? '     -' : r.secondsToAllBack.toFixed(1).padStart(6)}            ${r.requests}\n`,
    );
  }
  const [good, bad] = reports.map(([, r]) => r);
  const ok = good?.outcome === 'completed' && bad?.outcome === 'rolled_back' && bad.stillOnWithdrawn === 0;
  process.stdout.write(ok ? '\nOK: the good release reached 100 %, the bad one was rolled back and every device sent back.\n' : '\nFAILED: see the table above.\n');
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
