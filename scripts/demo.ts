import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fleetPlan } from './fleet/fleet-plan';
import { runFleet, type FleetAttribute, type FleetOptions, type FleetReport, type FleetTarget } from './fleet/fleet-simulation';

/*
 * `npm run demo`: a simulated fleet against the stack `npm start` runs, so a newcomer sees a release
 * move through its stages, a bad bundle rolled back by the gates, and both in the CLI. Without
 * --release it creates a demo app (a fresh id per run) and walks a good release, then a bad one;
 * with --release it drives the devices of any release already running.
 */

const USAGE = `usage: npm run demo -- [options]

Simulated devices check for updates, install, open sessions and crash, against a running Rampart
(RAMPART_URL, default http://127.0.0.1:8080; key: RAMPART_API_KEY or .data/admin-key).

  --release <id>            drive the devices of this running release (any app) instead of the demo
  --app <appId>             the demo app's id (default com.example.demo.<time>; must be new)
  --scenario good|bad|both  which demo releases to run (default both)
  --devices <n>             simulated devices (default 600)
  --crash-rate <p>          P(crash) per device and tick on the baseline (default 0.15)
  --js-error-rate <p>       P(JS error) per device and tick on the baseline (default 0)
  --bad-ratio <r>           the bad release's (and --release's) multiplier of both rates (default 5; 1 = healthy)
  --attribute <n=v[:share]> give a share of the devices a custom attribute for segment rules, e.g.
                            --attribute plan=enterprise:0.2 (repeatable; share defaults to 1)
  --check-interval <ms>     the demo plan's gate check interval (default 2000)
  --seed <n>                seed of the simulated fleet (default 7)
  --help                    this text

Follow a release while it runs: npm run cli -- release watch <id>
`;

const OPTIONS = {
  release: { type: 'string' },
  app: { type: 'string' },
  scenario: { type: 'string', default: 'both' },
  devices: { type: 'string', default: '600' },
  'crash-rate': { type: 'string', default: '0.15' },
  'js-error-rate': { type: 'string', default: '0' },
  'bad-ratio': { type: 'string', default: '5' },
  attribute: { type: 'string', multiple: true },
  'check-interval': { type: 'string', default: '2000' },
  seed: { type: 'string', default: '7' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

function number(values: Record<string, unknown>, name: string, min: number, max: number): number {
  const value = Number(values[name]);
  if (!(value >= min && value <= max)) throw new UsageError(`--${name} must be a number from ${min} to ${max}; got "${String(values[name])}"`);
  return value;
}

/** `name=value[:share]`; numbers and booleans keep their type, as segment rules compare them typed. */
function parseAttribute(text: string): FleetAttribute {
  const match = /^([a-zA-Z][a-zA-Z0-9_.-]*)=([^:]*)(?::([0-9.]+))?$/.exec(text);
  if (!match) throw new UsageError(`--attribute takes name=value or name=value:share, e.g. plan=enterprise:0.2; got "${text}"`);
  const [, name, raw, share] = match;
  const value = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw!;
  const fraction = share === undefined ? 1 : Number(share);
  if (!(fraction >= 0 && fraction <= 1)) throw new UsageError(`the share of --attribute ${name} must be from 0 to 1; got ${share}`);
  return { name: name!, value, share: fraction };
}

function adminKey(): string {
  if (process.env.RAMPART_API_KEY) return process.env.RAMPART_API_KEY;
  const file = path.resolve('.data/admin-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new UsageError('set RAMPART_API_KEY to an admin API key (npm start prints one and keeps it in .data/admin-key)');
}

function printReport(name: string, report: FleetReport): void {
  const seconds = report.secondsToOutcome.toFixed(1);
  const lines = [`${name}: release ${report.releaseId} ${report.outcome.replace('_', ' ')} after ${seconds} s`];
  if (report.reason) lines.push(`  why: ${report.reason}`);
  lines.push(`  devices that ran the new bundle: ${report.exposed} (${(report.exposedShare * 100).toFixed(1)} %)`);
  if (report.outcome === 'rolled_back') lines.push(`  still on the withdrawn bundle after checking again: ${report.stillOnWithdrawn}`);
  if (report.onCandidateAfterCompletion !== null) lines.push(`  on the new bundle after checking again: ${(report.onCandidateAfterCompletion * 100).toFixed(1)} %`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: OPTIONS, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const scenario = values.scenario;
  if (!['good', 'bad', 'both'].includes(scenario)) throw new UsageError(`--scenario is good, bad or both; got "${scenario}"`);
  const checkIntervalMs = number(values, 'check-interval', 200, 60_000);
  const badRatio = number(values, 'bad-ratio', 0.1, 100);
  const common: Common = {
    baseUrl: process.env.RAMPART_URL ?? 'http://127.0.0.1:8080',
    adminKey: adminKey(),
    devices: number(values, 'devices', 10, 100_000),
    attributes: (values.attribute ?? []).map(parseAttribute),
    baseCrashRate: number(values, 'crash-rate', 0, 1),
    baseJsErrorRate: number(values, 'js-error-rate', 0, 1),
    activeShare: 0.6,
    adoptionRate: 0.6,
    timeoutMs: 10 * 60_000,
    seed: number(values, 'seed', 0, 2 ** 31),
    log: (line) => process.stdout.write(`  ${line}\n`),
  };

  return values.release ? driveRelease(values.release, common, badRatio) : runDemo(values, common, checkIntervalMs, badRatio);
}

type Common = Omit<FleetOptions, 'appId' | 'target' | 'crashRatio'>;

async function driveRelease(releaseId: string, common: Common, ratio: number): Promise<number> {
  const target: FleetTarget = { kind: 'existing', releaseId };
  const answer = await fetch(new URL(`/v1/releases/${releaseId}`, common.baseUrl), { headers: { authorization: `Bearer ${common.adminKey}` } });
  const appId = ((await answer.json()) as { appId?: string }).appId;
  if (!appId) throw new UsageError(`no release ${releaseId} at ${common.baseUrl} (HTTP ${answer.status})`);
  process.stdout.write(`driving ${common.devices} devices of release ${releaseId} (${appId}); follow it: npm run cli -- release watch ${releaseId}\n`);
  printReport('release', await runFleet({ ...common, appId, target, crashRatio: ratio }));
  return 0;
}

async function runDemo(values: { app?: string | undefined; scenario: string }, common: Common, checkIntervalMs: number, badRatio: number): Promise<number> {
  // A plan on the demo's clock: gate checks every few seconds, soaks counted in checks.
  const plan = fleetPlan({ checkIntervalMs, minSoakChecks: 2, maxSoakChecks: 40, alpha: 0.001 });
  const base = values.app ?? `com.example.demo.t${Date.now().toString(36)}`;
  const runs: Array<{ name: string; crashRatio: number; expected: string }> = [];
  if (values.scenario !== 'bad') runs.push({ name: 'good release', crashRatio: 1, expected: 'completed' });
  if (values.scenario !== 'good') runs.push({ name: `bad release (${badRatio} × the crash rate)`, crashRatio: badRatio, expected: 'rolled_back' });
  let failed = 0;
  for (const [i, run] of runs.entries()) {
    const appId = runs.length > 1 ? `${base}.${i === 0 ? 'good' : 'bad'}` : base;
    process.stdout.write(`${run.name}: ${common.devices} devices on app ${appId}, plan 10 → 25 → 50 → 100 %\n`);
    const report = await runFleet({ ...common, appId, target: { kind: 'new', plan }, crashRatio: run.crashRatio });
    printReport(run.name, report);
    if (report.outcome !== run.expected) failed += 1;
  }
  process.stdout.write(failed === 0 ? '\ndemo done: every release ended as expected.\n' : `\ndemo: ${failed} release(s) did not end as expected; see above.\n`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const usage = err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n${usage ? `\n${USAGE}` : ''}`);
    process.exitCode = usage ? 2 : 1;
  },
);
