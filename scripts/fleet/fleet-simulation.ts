import { createRng } from '../support/prng';
import { until } from '../support/until';

/*
 * A simulated fleet that uses Rampart exactly as apps do — update checks, installs, sessions,
 * crashes — over the real HTTP API, while a real release workflow walks a compressed plan. Each
 * tick, a share of the devices is active: it checks, installs what it is offered (with some delay),
 * and reports a session and, with the crash rate of the bundle it runs, a crash.
 *
 * Devices of a tick go through a few at a time rather than all at once: a burst on a starved machine
 * answers every check first and delivers every event late, in one clump, leaving gate checks with
 * nothing between clumps; a stream keeps events arriving while the tick lasts.
 *
 * The fleet moves a tick ahead of the release's gate, never more: before a tick it waits until a
 * gate check has counted every event of the tick before the last one. A check thus sees at most
 * about two ticks of evidence, a tick a busy machine slows down spreads over several checks that
 * each still see devices, and there is always a tick in flight while the gate reads — a fleet that
 * stood still until each tick was counted left checks without a device between ticks, which a
 * loaded machine turned into a pause for want of data. How many checks a stage takes depends on the
 * machine's speed (see `fleetPlan` for the soak limits that absorb it).
 */

/** A custom attribute a share of the devices carries, so that segment rules match them. */
export interface FleetAttribute {
  name: string;
  value: string | number | boolean;
  /** Share of the devices that carry it, 0…1. */
  share: number;
}

/** Which release the fleet meets: one it sets up on a fresh app, or one already running. */
export type FleetTarget =
  | { kind: 'new'; plan: unknown }
  | { kind: 'existing'; releaseId: string };

export interface FleetOptions {
  baseUrl: string;
  adminKey: string;
  appId: string;
  target: FleetTarget;
  devices: number;
  attributes?: FleetAttribute[];
  /** Crash-rate multiplier of the new bundle: 1 is a good release, 5 a bad one. */
  crashRatio: number;
  /** P(crash) of an active device in one tick on the baseline bundle. */
  baseCrashRate: number;
  /** P(JS error) of an active device in one tick on the baseline bundle; the new bundle's is crashRatio × this. */
  baseJsErrorRate?: number;
  /** Share of devices active per tick. */
  activeShare: number;
  /** P(an active device that is offered a bundle installs it this tick): apps apply on next launch. */
  adoptionRate: number;
  /** P(an install the device attempts fails): it reports `install_failed` and stays where it was. */
  installFailureRate?: number;
  /**
   * Length of a tick on the fleet's own clock. Set, events carry a clock that starts at the release
   * start and advances this much per tick (at most a day ahead of the wall clock, as the API allows),
   * so insight buckets show hours of adoption in a minute; the gates still count by arrival. Unset,
   * events carry the wall clock.
   */
  simulatedTickMs?: number;
  /**
   * After completion, ticks the fleet goes on living as before (active share, adoption rate) so the
   * release's adoption curve can be read; unset, every device instead checks once and installs.
   */
  adoptionTicks?: number;
  /** Segments a new app gets before its releases start (`POST /v1/apps/:appId/segments` bodies). */
  segments?: ReadonlyArray<{ key: string; rule: unknown; priority?: number }>;
  timeoutMs: number;
  seed: number;
  log?: (line: string) => void;
}

/** What the fleet itself knows happened, to hold the API's insight figures against. */
export interface FleetTruth {
  installsOk: number;
  installsFailed: number;
  /** Per tick: when it happened on the fleet's clock, the devices active in it and those of them on the candidate. */
  ticks: Array<{ at: number; active: number; onCandidate: number }>;
}

export interface FleetReport {
  releaseId: string;
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
  /** After completion: share of devices on the new bundle once each has checked again and installed what it was offered. */
  onCandidateAfterCompletion: number | null;
  requests: number;
  ticks: number;
  /** The release start and the end of the last tick, on the fleet's clock (ms since the epoch). */
  startedAt: number;
  clockEnd: number;
  truth: FleetTruth;
  /** Why the release is where it ended (the last transition's or gate's reason). */
  reason: string | null;
}

interface Device {
  id: string;
  platform: 'ios' | 'android';
  attributes: Record<string, string | number | boolean>;
  running: string;
  everOnCandidate: boolean;
}

type Call = (method: string, url: string, body?: unknown, admin?: boolean) => Promise<Record<string, unknown>>;

/** The versions a new demo app gets: a baseline everyone runs, and the candidate the release ships. */
const NEW_APP_BASELINE = '1.0.0';
const NEW_APP_CANDIDATE = '1.1.0';

interface Release {
  releaseId: string;
  /** What devices run before the release: `builtin` when the release has no baseline. */
  baseline: string;
  candidate: string;
}

/** A fresh app with a completed baseline release, then the candidate release with the given plan. */
async function startOnNewApp(call: Call, appId: string, plan: unknown, segments: FleetOptions['segments'] = []): Promise<Release> {
  await call('POST', '/v1/apps', { id: appId, name: 'Simulated fleet' }, true);
  for (const segment of segments) await call('POST', `/v1/apps/${appId}/segments`, segment, true);
  for (const version of [NEW_APP_BASELINE, NEW_APP_CANDIDATE]) {
    await call('POST', `/v1/apps/${appId}/bundles`, { version, url: `https://cdn.example.com/${version}.zip`, sha256: 'e'.repeat(64), size: 4096 }, true);
  }
  const baseline = (await call('POST', `/v1/apps/${appId}/releases`, { version: NEW_APP_BASELINE, plan: { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] } }, true)).id as string;
  await until('the baseline release to complete', async () => ((await call('GET', `/v1/releases/${baseline}`, undefined, true)).status === 'completed' ? true : undefined));
  const releaseId = (await call('POST', `/v1/apps/${appId}/releases`, { version: NEW_APP_CANDIDATE, plan }, true)).id as string;
  return { releaseId, baseline: NEW_APP_BASELINE, candidate: NEW_APP_CANDIDATE };
}

/** A release already running: its devices start on its baseline. */
async function existingRelease(call: Call, releaseId: string): Promise<Release> {
  const release = await call('GET', `/v1/releases/${releaseId}`, undefined, true);
  return { releaseId, baseline: (release.baselineVersion as string | null) ?? 'builtin', candidate: release.version as string };
}

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

  const started = Date.now();
  const { releaseId, baseline: BASELINE, candidate: CANDIDATE } =
    options.target.kind === 'new' ? await startOnNewApp(call, options.appId, options.target.plan, options.segments) : await existingRelease(call, options.target.releaseId);

  const fleet: Device[] = Array.from({ length: options.devices }, (_, i) => ({
    id: `fleet-${options.seed}-${i}`,
    platform: i % 2 === 0 ? 'ios' : 'android',
    attributes: Object.fromEntries((options.attributes ?? []).filter((a) => random() < a.share).map((a) => [a.name, a.value])),
    running: BASELINE,
    everOnCandidate: false,
  }));
  const truth: FleetTruth = { installsOk: 0, installsFailed: 0, ticks: [] };
  // The fleet's clock: the wall clock, or one that starts with the release and moves a tick at a time.
  const releaseStartedAt = Date.parse((await call('GET', `/v1/releases/${releaseId}`, undefined, true)).createdAt as string);
  let ticksSoFar = 0;
  const clock = () => (options.simulatedTickMs === undefined ? Date.now() : releaseStartedAt + ticksSoFar * options.simulatedTickMs);
  const says = (device: Device) => ({ deviceId: device.id, platform: device.platform, nativeVersion: '5.0.0', attributes: device.attributes });

  const tick = async (active: Device[], adoptionRate = options.adoptionRate) => {
    // Drawn before any request: answers arrive in any order, and a seed must give one fleet.
    const draws = active.map((device) => ({ device, adopt: random() < adoptionRate, crash: random(), jsError: random(), installFails: random() < (options.installFailureRate ?? 0) }));
    const tickAt = new Date(clock()).toISOString();
    await forEachStreamed(
      draws,
      async ({ device, adopt, crash, jsError, installFails }) => {
        const answer = await call('POST', `/v1/apps/${options.appId}/check`, { ...says(device), bundleVersion: device.running });
        const events: Array<Record<string, unknown>> = [];
        const at = options.simulatedTickMs === undefined ? new Date().toISOString() : tickAt;
        const install = installFrom(answer, device, { adopt, installFails }, at, truth);
        if (install) events.push(install);
        if (device.running === CANDIDATE) device.everOnCandidate = true;
        events.push({ type: 'session_start', at, bundleVersion: device.running });
        const ratio = device.running === CANDIDATE ? options.crashRatio : 1;
        if (crash < options.baseCrashRate * ratio) events.push({ type: 'crash', at, bundleVersion: device.running });
        if (jsError < (options.baseJsErrorRate ?? 0) * ratio) events.push({ type: 'js_error', at, bundleVersion: device.running });
        await call('POST', `/v1/apps/${options.appId}/events`, { ...says(device), events });
      },
    );
    truth.ticks.push({ at: Date.parse(tickAt), active: active.length, onCandidate: active.filter((d) => d.running === CANDIDATE).length });
    ticksSoFar += 1;
  };

  const remaining = () => Math.max(0, options.timeoutMs - (Date.now() - started));
  const read = async () => (await call('GET', `/v1/releases/${releaseId}`, undefined, true)) as unknown as ReleaseSeen;
  // A tick before the first stage is served would only count against the canary as an empty window.
  await until(`release ${releaseId} to serve its first stage`, async () => ((await read()).status === 'pending' ? undefined : true), remaining(), CHECK_POLL_MS);
  let status = 'running';
  let ticks = 0;
  let reason: string | null = null;
  let previousAcknowledged: number | null = null;
  while (!SETTLED.includes(status) && remaining() > 0) {
    await tick(fleet.filter(() => random() < options.activeShare));
    ticks += 1;
    // Every 202 is in: the events are durable, filed under counting windows that end by now.
    const acknowledged = Date.now();
    const counted = previousAcknowledged;
    // The gate must have counted the tick before this one: the fleet stays at most a tick ahead of
    // it, and a tick is always in flight while the gate reads, so no check finds the fleet idle
    // between ticks (two such checks in a row would pause the release for want of data).
    const release =
      counted === null
        ? await read()
        : await until(
            `a gate check of release ${releaseId} counting tick ${ticks - 1} (events acknowledged by ${new Date(counted).toISOString()})`,
            async () => {
              const current = await read();
              return SETTLED.includes(current.status) || (current.gates?.evidence.windowEnd ?? -Infinity) > counted ? current : undefined;
            },
            remaining(),
            CHECK_POLL_MS,
          );
    previousAcknowledged = acknowledged;
    if (release.status !== status || ticks % 5 === 0) {
      log(`t=${((Date.now() - started) / 1000).toFixed(1)}s status=${release.status} stage=${release.stageIndex} exposure=${JSON.stringify(release.exposure)} on ${CANDIDATE}: ${fleet.filter((d) => d.running === CANDIDATE).length}`);
    }
    status = release.status;
    reason = release.reason;
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
  /** After completion, the share of devices on the new bundle once the fleet has lived on with it. */
  const adoptAfterCompletion = async () => {
    if (options.adoptionTicks === undefined) {
      // A completed release is every device's: each one checks again and installs what it is offered.
      await tick(fleet, 1);
    } else {
      for (let i = 0; i < options.adoptionTicks && fleet.some((d) => d.running !== CANDIDATE); i++) await tick(fleet.filter(() => random() < options.activeShare));
    }
    return fleet.filter((d) => d.running === CANDIDATE).length / options.devices;
  };
  const onCandidateAfterCompletion = status === 'completed' ? await adoptAfterCompletion() : null;
  return {
    releaseId,
    outcome: status,
    exposed,
    exposedShare: exposed / options.devices,
    secondsToOutcome,
    stillOnWithdrawn: status === 'rolled_back' ? fleet.filter((d) => d.running === CANDIDATE).length : 0,
    secondsToAllBack,
    onCandidateAfterCompletion,
    requests,
    ticks,
    startedAt: releaseStartedAt,
    clockEnd: clock(),
    truth,
    reason,
  };
}

/**
 * What a device does with a check's answer: a rollback always installs (the bundle is already on
 * the device); an update only when the device adopts it this tick, and it may fail, leaving the
 * device where it was. Returns the event to report, if any.
 */
function installFrom(
  answer: Record<string, unknown>,
  device: Device,
  draw: { adopt: boolean; installFails: boolean },
  at: string,
  truth: FleetTruth,
): Record<string, unknown> | null {
  const offered = (answer.bundle as { version: string } | null | undefined)?.version ?? (answer.action === 'rollback' ? 'builtin' : null);
  if (offered === null || !((answer.action === 'update' && draw.adopt) || answer.action === 'rollback')) return null;
  if (answer.action === 'update' && draw.installFails) {
    truth.installsFailed += 1;
    return { type: 'install_failed', at, bundleVersion: offered };
  }
  truth.installsOk += 1;
  device.running = offered;
  return { type: 'install_ok', at, bundleVersion: offered };
}

/** Where the fleet stops ticking: the release ended, or a human has to look at it. */
const SETTLED = ['completed', 'rolled_back', 'aborted', 'paused'];
const CHECK_POLL_MS = 50;
/** Devices of a tick in flight at once. */
const STREAM_WIDTH = 16;

/** Runs `work` over `items` in order, at most STREAM_WIDTH at a time. */
async function forEachStreamed<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(STREAM_WIDTH, items.length) }, lane));
}

/** What the fleet reads of `GET /v1/releases/:id`. */
interface ReleaseSeen {
  status: string;
  stageIndex: number;
  exposure: Record<string, number>;
  reason: string | null;
  gates: { evidence: { windowEnd: number | null } } | null;
}

