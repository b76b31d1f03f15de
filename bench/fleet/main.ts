import { parseArgs } from 'node:util';
import { HOUR_MS, MINUTE_MS } from '../../domain/time';
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

/** A tick is 15 minutes of the fleet's life: 40 % of devices active per tick is a busy app's day. */
const SIMULATED_TICK_MS = 15 * MINUTE_MS;
/** Ticks after completion (12 h on the fleet's clock) for the adoption curve to flatten. */
const ADOPTION_TICKS = 48;
// Below the install_failed tripwire's tolerated rate (0.2 % of canary device-windows): a healthy release.
const INSTALL_FAILURE_RATE = 0.001;
const STEP = '1h';

interface AdoptionSeen {
  segment: string;
  curve: Array<{ start: string; activeDevices: number; devicesOnRelease: number; adoption: number | null }>;
  timeToAdoption: Record<'50' | '90' | '95', { afterMs: number } | null>;
}
interface SeriesSeen {
  segment: string;
  cohort: string;
  totals: { installs: { ok: number; failed: number } };
}

const hours = (ms: number) => `${(ms / HOUR_MS).toFixed(1)} h`;
const percent = (share: number | null) => (share === null ? '   -' : `${(share * 100).toFixed(0).padStart(3)} %`);

/** The good release as the insight API reports it, beside what the fleet knows it did. */
async function printInsights(stack: { baseUrl: string; adminKey: string }, report: FleetReport): Promise<void> {
  const query = new URLSearchParams({ step: STEP, from: new Date(report.startedAt).toISOString(), to: new Date(report.clockEnd + HOUR_MS).toISOString() });
  const res = await fetch(`${stack.baseUrl}/v1/releases/${report.releaseId}/insights?${query.toString()}`, { headers: { authorization: `Bearer ${stack.adminKey}` } });
  if (!res.ok) throw new Error(`insights of ${report.releaseId}: ${res.status} ${await res.text()}`);
  const insights = (await res.json()) as { adoption: AdoptionSeen[]; series: SeriesSeen[] };
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`\n  adoption of the good release per segment (GET /v1/releases/:id/insights, ${STEP} buckets, a tick = ${SIMULATED_TICK_MS / MINUTE_MS} min on the fleet's clock):`);
  for (const segment of insights.adoption) {
    const hourly = segment.curve.map((p) => `${hours(Date.parse(p.start) + HOUR_MS - report.startedAt).padStart(7)} ${percent(p.adoption)}`);
    out(`  ${segment.segment}: ${hourly.join(' |')}`);
    const milestones = (['50', '90', '95'] as const).map((level) => `${level} % after ${segment.timeToAdoption[level] ? hours(segment.timeToAdoption[level].afterMs) : 'not reached'}`);
    out(`  ${' '.repeat(segment.segment.length)}  time to ${milestones.join(', ')}`);
  }
  const installs = insights.series.reduce((sum, s) => ({ ok: sum.ok + s.totals.installs.ok, failed: sum.failed + s.totals.installs.failed }), { ok: 0, failed: 0 });
  const rate = (ok: number, failed: number) => (ok + failed === 0 ? '-' : `${((ok / (ok + failed)) * 100).toFixed(1)} %`);
  out(`  update success: ${rate(installs.ok, installs.failed)} (${installs.ok} ok, ${installs.failed} failed) per the API; the fleet made ${report.truth.installsOk} ok, ${report.truth.installsFailed} failed (${rate(report.truth.installsOk, report.truth.installsFailed)})`);
}

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
    installFailureRate: INSTALL_FAILURE_RATE,
    target: { kind: 'new', plan: fleetPlan({ checkIntervalMs: 1000, minSoakChecks: 5, maxSoakChecks: 60, alpha: 0.01 }) } as const,
    simulatedTickMs: SIMULATED_TICK_MS,
    timeoutMs: 240_000,
    seed: Number(values.seed),
    log: (line: string) => process.stdout.write(`  ${line}\n`),
  };
  const reports: Array<[string, FleetReport]> = [];
  try {
    process.stdout.write(`good release (R = 1), ${devices} devices:\n`);
    reports.push(['good (R = 1)', await runFleet({ ...common, appId: 'com.example.fleet.good', crashRatio: 1, adoptionTicks: ADOPTION_TICKS })]);
    await printInsights(stack, reports[0]![1]);
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
  for (const [name, r] of reports) if (r.reason) process.stdout.write(`${name}: ${r.reason}\n`);
  process.stdout.write(ok ? '\nOK: the good release reached 100 %, the bad one was rolled back and every device sent back.\n' : '\nFAILED: see the table above.\n');
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
