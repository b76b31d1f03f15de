import { createRng } from '../support/prng';
import { until } from '../support/until';

/*
 * A simulated fleet that uses Rampart exactly as apps do — update checks, installs, sessions,
 * crashes — over the real HTTP API, while a real release workflow walks a compressed plan. Each
 * tick, a share of the devices is active: it checks, installs what it is offered (with some delay),
 * and reports a session and, with the crash rate of the bundle it runs, a crash.
 */

export interface FleetOptions {
  baseUrl: string;
  adminKey: string;
  appId: string;
  devices: number;
  /** Crash-rate multiplier of the new bundle: 1 is a good release, 5 a bad one. */
  crashRatio: number;
  /** P(crash) of an active device in one tick on the baseline bundle. */
  baseCrashRate: number;
  /** Share of devices active per tick. */
  activeShare: number;
  /** P(an active device that is offered a bundle installs it this tick): apps apply on next launch. */
  adoptionRate: number;
  tickMs: number;
  /** The release's plan (compressed durations). */
  plan: unknown;
  timeoutMs: number;
  seed: number;
  log?: (line: string) => void;
}

export interface FleetReport {
  outcome: string;
  /** Devices that ran the new bundle at any time. */
  exposed: number;
  exposedShare: number;
  /** From the release start to its terminal state. */
  secondsToOutcome: number;
  /** After a rollback: devices still on the withdrawn bundle once every device has checked again. */
  stillOnWithdrawn: number;
  /** After a rollback: seconds until no device ran the withdrawn bundle any more. */
  secondsToAllBack: number | null;
  requests: number;
  ticks: number;
}

interface Device {
  id: string;
  platform: 'ios' | 'android';
  running: string;
  everOnCandidate: boolean;
}

const BASELINE = '1.0.0';
const CANDIDATE = '1.1.0';

export async function runFleet(options: FleetOptions): Promise<FleetReport> {
  const { next: random } = createRng([options.seed]);
  const log = options.log ?? (() => undefined);
  let requests = 0;
  const call = async (method: string, url: string, body?: unknown, admin = false) => {
    requests += 1;
    const res = await fetch(`${options.baseUrl}${url}`, {
      method,
      headers: { 'content-type': 'application/json', ...(admin ? { authorization: `Bearer ${options.adminKey}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  await call('POST', '/v1/apps', { id: options.appId, name: 'Simulated fleet' }, true);
  for (const version of [BASELINE, CANDIDATE]) {
    await call('POST', `/v1/apps/${options.appId}/bundles`, { version, url: `https://cdn.example.com/${version}.zip`, sha256: 'e'.repeat(64), size: 4096 }, true);
  }
  const baseline = (await call('POST', `/v1/apps/${options.appId}/releases`, { version: BASELINE, plan: { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] } }, true)).id as string;
  await until('the baseline release to complete', async () => ((await call('GET', `/v1/releases/${baseline}`, undefined, true)).status === 'completed' ? true : undefined));

  const fleet: Device[] = Array.from({ length: options.devices }, (_, i) => ({
    id: `fleet-${options.seed}-${i}`,
    platform: i % 2 === 0 ? 'ios' : 'android',
    running: BASELINE,
    everOnCandidate: false,
  }));

  const tick = async (active: Device[]) => {
    await Promise.all(
      active.map(async (device) => {
        const answer = await call('POST', `/v1/apps/${options.appId}/check`, { deviceId: device.id, platform: device.platform, nativeVersion: '5.0.0', bundleVersion: device.running });
        const events: Array<Record<string, unknown>> = [];
        const at = new Date().toISOString();
        const offered = (answer.bundle as { version: string } | null | undefined)?.version ?? (answer.action === 'rollback' ? 'builtin' : null);
        if ((answer.action === 'update' && random() < options.adoptionRate) || answer.action === 'rollback') {
          device.running = offered!;
          events.push({ type: 'install_ok', at, bundleVersion: device.running });
        }
        if (device.running === CANDIDATE) device.everOnCandidate = true;
        events.push({ type: 'session_start', at, bundleVersion: device.running });
        const crashRate = options.baseCrashRate * (device.running === CANDIDATE ? options.crashRatio : 1);
        if (random() < crashRate) events.push({ type: 'crash', at, bundleVersion: device.running });
        await call('POST', `/v1/apps/${options.appId}/events`, { deviceId: device.id, platform: device.platform, nativeVersion: '5.0.0', events });
      }),
    );
  };

  const started = Date.now();
  const releaseId = (await call('POST', `/v1/apps/${options.appId}/releases`, { version: CANDIDATE, plan: options.plan }, true)).id as string;
  let status = 'running';
  let ticks = 0;
  while (!['completed', 'rolled_back', 'aborted', 'paused'].includes(status) && Date.now() - started < options.timeoutMs) {
    const tickStarted = Date.now();
    await tick(fleet.filter(() => random() < options.activeShare));
    ticks += 1;
    const release = await call('GET', `/v1/releases/${releaseId}`, undefined, true);
    if (release.status !== status || ticks % 5 === 0) {
      log(`t=${((Date.now() - started) / 1000).toFixed(1)}s status=${String(release.status)} stage=${String(release.stageIndex)} exposure=${JSON.stringify(release.exposure)} on ${CANDIDATE}: ${fleet.filter((d) => d.running === CANDIDATE).length}`);
    }
    status = release.status as string;
    await sleep(Math.max(0, options.tickMs - (Date.now() - tickStarted)));
  }
  const secondsToOutcome = (Date.now() - started) / 1000;
  const exposed = fleet.filter((d) => d.everOnCandidate).length;

  let secondsToAllBack: number | null = null;
  if (status === 'rolled_back') {
    // Every device checks again (apps check on launch); each one on the bad bundle must be sent back.
    const rolledBackAt = Date.now();
    for (let round = 0; round < 3 && fleet.some((d) => d.running === CANDIDATE); round++) await tick(fleet.filter((d) => d.running === CANDIDATE));
    secondsToAllBack = (Date.now() - rolledBackAt) / 1000;
  }
  return {
    outcome: status,
    exposed,
    exposedShare: exposed / options.devices,
    secondsToOutcome,
    stillOnWithdrawn: status === 'rolled_back' ? fleet.filter((d) => d.running === CANDIDATE).length : 0,
    secondsToAllBack,
    requests,
    ticks,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

