import { describe, expect, it } from 'vitest';
import type { Http } from '../support/http';
import { createAppWithBundles, establishDevices, deviceIds, postTelemetry, startRelease, type TelemetryEvent } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';
import { createRng, type Rng } from '../../scripts/support/prng';
import { waitFor } from '../../scripts/support/until';
import type { ExperimentResults } from '../../domain/experiment-results';
import { MAX_FEATURE_NAMES_PER_APP } from '../../domain/insight';

const BASELINE = '1.0.0';
const ARM_B = '1.1.0';
const ARM_C = '1.2.0';
/** The truth the fleet is scripted with: B lengthens sessions by 10 %, C crashes three times as often. */
const SESSION_MS = 60_000;
const SESSION_SD_MS = 12_000;
const B_LENGTHENS = 1.1;
const CRASH_RATE = 0.03;
const C_CRASHES = 3;

/** A normal draw (Box–Muller) from the seeded stream, kept positive. */
function normal(rng: Rng, mean: number, sd: number): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.max(1, Math.round(mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next())));
}

type Arm = 'a' | 'b' | 'c';

/** What one device reports in one round: a session on the bundle it runs (with its length in phase 2), maybe a crash. */
function scriptedSession(rng: Rng, arm: Arm, version: string, withDuration: boolean): TelemetryEvent[] {
  const onArmBundle = arm === 'a' || version !== BASELINE;
  const crashRate = arm === 'c' && onArmBundle ? CRASH_RATE * C_CRASHES : CRASH_RATE;
  const events: TelemetryEvent[] = [{ type: 'session_start', bundleVersion: version }];
  if (rng.next() < crashRate) events.push({ type: 'crash', bundleVersion: version });
  if (withDuration) events.push({ type: 'session_end', bundleVersion: version, durationMs: normal(rng, arm === 'b' ? SESSION_MS * B_LENGTHENS : SESSION_MS, SESSION_SD_MS) });
  return events;
}

/** Every device asks which bundle to run and follows the answer: its arm shows in what it gets. */
async function checkIn(device: Http, appId: string, fleet: string[]): Promise<{ armOf: Map<string, Arm>; running: Map<string, string> }> {
  const armOf = new Map<string, Arm>();
  const running = new Map<string, string>();
  for (const deviceId of fleet) {
    const answer = await device.post(`/v1/apps/${appId}/check`, { deviceId, platform: 'android', nativeVersion: '2.0.0', bundleVersion: BASELINE });
    expect(answer.status).toBe(200);
    const updated = answer.body.action === 'update';
    if (updated) expect(answer.body.installMode).toBe('next_launch');
    const version = updated ? (answer.body.bundle.version as string) : BASELINE;
    armOf.set(deviceId, version === ARM_B ? 'b' : version === ARM_C ? 'c' : 'a');
    running.set(deviceId, version);
  }
  return { armOf, running };
}

describe('an experiment between bundles on the real stack', () => {
  const ctx = useTestStack();

  /** An app whose channel completed a release of the baseline, with an established fleet. */
  const appOnBaseline = async (appId: string, bundles: string[], fleet: string[]) => {
    await createAppWithBundles(ctx.admin, appId, bundles);
    const base = await startRelease(ctx.admin, appId, { version: BASELINE, plan: { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] } });
    await waitForServed(ctx.stack, base, (r) => r.status === 'completed');
    await establishDevices(ctx.stack, appId, fleet);
    return fleet;
  };

  it('stops the arm that crashes, declares the arm that lengthens sessions the winner, and promote-arm ships it', async () => {
    const appId = 'com.example.experiment';
    const fleet = await appOnBaseline(appId, [BASELINE, ARM_B, ARM_C], deviceIds(450, 'exp'));

    const refused = await ctx.admin.post(`/v1/apps/${appId}/experiments`, { arms: [{ key: 'a' }, { key: 'b', version: '9.9.9' }], primaryMetric: 'session_duration' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/no bundle 9\.9\.9/);

    const started = await ctx.admin.post(`/v1/apps/${appId}/experiments`, {
      arms: [{ key: 'a' }, { key: 'b', version: ARM_B }, { key: 'c', version: ARM_C }],
      primaryMetric: 'session_duration',
      guardrails: ['crash_free_sessions'],
      // Long soak: the experiment stays at full exposure until a winner, the time limit or a command.
      plan: { stages: [{ exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 300 }] },
      timeLimitMs: 600_000,
      minSamplePerArm: 100,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.id as string;
    await waitForServed(ctx.stack, id, (r) => r.status === 'running' && r.exposure.default === 10_000);

    const { armOf, running } = await checkIn(ctx.device, appId, fleet);
    const sizes = { a: 0, b: 0, c: 0 };
    for (const arm of armOf.values()) sizes[arm]++;
    for (const size of Object.values(sizes)) expect(size).toBeGreaterThan(100);

    const rng = createRng([17, 2026]);
    const results = async () => (await ctx.admin.get(`/v1/releases/${id}/experiment`)).body as ExperimentResults;
    /** One round of the fleet: each device runs a session on the bundle it runs; `withDurations` adds its length. */
    const round = async (withDurations: boolean) => {
      await postTelemetry(
        ctx.device,
        appId,
        fleet.map((deviceId) => ({ deviceId, events: scriptedSession(rng, armOf.get(deviceId)!, running.get(deviceId)!, withDurations) })),
      );
    };
    const afterCheck = async (acknowledged: number, done: (r: ExperimentResults) => boolean) =>
      waitFor(`an experiment check after ${acknowledged}`, results, (r) => done(r) || (r.lookedAt ?? 0) > acknowledged + 1000 || r.status !== 'running', { everyMs: 100, timeoutMs: 60_000 });

    // Phase 1: sessions and crashes, no durations yet, until the guardrail stops C.
    const stopC = (r: ExperimentResults) => r.arms.find((a) => a.key === 'c')?.stopped === true;
    let now = await results();
    let rounds = 0;
    while (!stopC(now) && rounds < 40) {
      await round(false);
      rounds++;
      now = await afterCheck(Date.now(), stopC);
    }
    expect(stopC(now), JSON.stringify(now.arms)).toBe(true);
    expect(now.status).toBe('running');
    const c = now.arms.find((a) => a.key === 'c')!;
    expect(c.stoppedReason).toMatch(/crash/);
    expect(now.arms.find((a) => a.key === 'b')!.stopped).toBe(false);
    const stoppedAfterRounds = rounds;

    // C's devices are sent back to the baseline once devices are served the stop; B's keep their bundle.
    await waitForServed(ctx.stack, id, (r) => r.experiment?.arms.find((a) => a.key === 'c')?.stopped === true);
    const cDevice = fleet.find((d) => armOf.get(d) === 'c')!;
    const back = await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: cDevice, platform: 'android', nativeVersion: '2.0.0', bundleVersion: ARM_C });
    expect(back.body).toMatchObject({ action: 'rollback', bundle: { version: BASELINE }, releaseId: id });
    for (const d of fleet) if (armOf.get(d) === 'c') running.set(d, BASELINE);
    const bDevice = fleet.find((d) => armOf.get(d) === 'b')!;
    const kept = await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: bDevice, platform: 'android', nativeVersion: '2.0.0', bundleVersion: ARM_B });
    expect(kept.body).toMatchObject({ action: 'none' });

    // Phase 2: sessions report their length, until the experiment concludes.
    const concluded = (r: ExperimentResults) => r.conclusion !== null;
    while (!concluded(now) && rounds < 80) {
      await round(true);
      rounds++;
      now = await afterCheck(Date.now(), concluded);
    }
    expect(now.conclusion, JSON.stringify(now)).not.toBeNull();
    // Concluded: paused, every arm still served, once devices see it.
    await waitForServed(ctx.stack, id, (r) => r.status === 'paused' && r.exposure.default === 10_000);
    now = await results();
    expect(now.status).toBe('paused');
    expect(now.winner).toBe('b');
    const b = now.arms.find((a) => a.key === 'b')!;
    expect(b.verdict).toBe('better');
    // The interval covers the truth: +6 s, +10 %.
    expect(b.difference!.lower!).toBeLessThanOrEqual(SESSION_MS * (B_LENGTHENS - 1));
    expect(b.difference!.upper!).toBeGreaterThanOrEqual(SESSION_MS * (B_LENGTHENS - 1));
    expect(b.relative!.lower!).toBeLessThanOrEqual(B_LENGTHENS - 1);
    expect(b.relative!.upper!).toBeGreaterThanOrEqual(B_LENGTHENS - 1);
    expect(now.sampleRatio?.mismatch).toBe(false);
    console.log(
      `experiment: C stopped after ${stoppedAfterRounds} rounds (${c.stoppedReason}); B won after ${rounds} rounds: ` +
        `n=${b.sample}, ${((b.relative!.estimate ?? 0) * 100).toFixed(1)} % [${(b.relative!.lower! * 100).toFixed(1)}, ${(b.relative!.upper! * 100).toFixed(1)}] ` +
        `(${Math.round(b.difference!.estimate)} ms [${Math.round(b.difference!.lower!)}, ${Math.round(b.difference!.upper!)}]); SRM p ${now.sampleRatio?.pValue.toFixed(3)}`,
    );

    // A stopped arm cannot be promoted; the declared winner can, and reaches everyone.
    const wrong = await ctx.admin.post(`/v1/releases/${id}/promote-arm`, { arm: 'c', reason: 'try the stopped one' });
    expect(wrong.status).toBe(409);
    expect(wrong.body.error.message).toMatch(/stopped/);
    const promoted = await ctx.admin.post(`/v1/releases/${id}/promote-arm`, { reason: 'B lengthens sessions' });
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    expect(promoted.body).toMatchObject({ status: 'completed', promotedArm: 'b', winner: 'b' });
    await waitForServed(ctx.stack, id, (r) => r.status === 'completed' && r.target.version === ARM_B);
    const controlDevice = fleet.find((d) => armOf.get(d) === 'a')!;
    for (const deviceId of [controlDevice, cDevice]) {
      const answer = await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId, platform: 'android', nativeVersion: '2.0.0', bundleVersion: BASELINE });
      expect(answer.body).toMatchObject({ action: 'update', bundle: { version: ARM_B } });
    }
    const release = await ctx.admin.get(`/v1/releases/${id}`);
    expect(release.body).toMatchObject({ status: 'completed', version: ARM_B });
    expect(release.body.history.map((t: { event: string }) => t.event)).toEqual(expect.arrayContaining(['arm_stopped', 'concluded', 'arm_promoted', 'completed']));
    const audit = await ctx.admin.get(`/v1/audit?target=release:${id}`);
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['experiment.start', 'release.arm_stopped', 'release.arm_promoted']));

    // The next release builds on the promoted bundle.
    const next = await ctx.admin.post(`/v1/apps/${appId}/releases`, { version: ARM_C, plan: 'default', force: true });
    expect(next.status).toBe(201);
    expect(next.body.baselineVersion).toBe(ARM_B);
  }, 240_000);

  it('runs an update-timing experiment: the same bundle at next launch or immediately, each protocol told what it can express', async () => {
    const appId = 'com.example.timing';
    const fleet = await appOnBaseline(appId, [BASELINE, ARM_B], deviceIds(120, 'timing'));

    const same = await ctx.admin.post(`/v1/apps/${appId}/experiments`, { arms: [{ key: 'later', version: ARM_B }, { key: 'again', version: ARM_B }], primaryMetric: 'adoption' });
    expect(same.status).toBe(400);
    expect(same.body.error.message).toMatch(/same bundle with the same install mode/);

    const started = await ctx.admin.post(`/v1/apps/${appId}/experiments`, {
      arms: [
        { key: 'later', version: ARM_B, installMode: 'next_launch' },
        { key: 'now', version: ARM_B, installMode: 'immediate' },
      ],
      primaryMetric: 'adoption',
      guardrails: ['update_success'],
      plan: { stages: [{ exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 300 }] },
      timeLimitMs: 600_000,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.id as string;
    await waitForServed(ctx.stack, id, (r) => r.status === 'running' && r.exposure.default === 10_000);

    const modeOf = new Map<string, string>();
    for (const deviceId of fleet) {
      const answer = await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId, platform: 'android', nativeVersion: '2.0.0', bundleVersion: BASELINE });
      expect(answer.body).toMatchObject({ action: 'update', bundle: { version: ARM_B } });
      modeOf.set(deviceId, answer.body.installMode as string);
    }
    const immediate = fleet.filter((d) => modeOf.get(d) === 'immediate');
    const nextLaunch = fleet.filter((d) => modeOf.get(d) === 'next_launch');
    expect(immediate.length).toBeGreaterThan(30);
    expect(nextLaunch.length).toBeGreaterThan(30);

    // CodePush can only say "mandatory": the SDK then installs with its mandatoryInstallMode (immediately).
    const channels = await ctx.admin.get(`/v1/apps/${appId}/channels`);
    const key = (channels.body.channels as Array<{ name: string; deploymentKey: string }>).find((c) => c.name === 'production')!.deploymentKey;
    const codePush = async (deviceId: string) =>
      (await ctx.device.get(`/v0.1/public/codepush/update_check?deployment_key=${key}&app_version=2.0.0&client_unique_id=${deviceId}`)).body.update_info as Record<string, unknown>;
    expect(await codePush(immediate[0]!)).toMatchObject({ is_available: true, label: ARM_B, is_mandatory: true });
    expect(await codePush(nextLaunch[0]!)).toMatchObject({ is_available: true, label: ARM_B, is_mandatory: false });

    // Devices told "immediately" run the bundle in their next session; the others are still on the baseline.
    await postTelemetry(ctx.device, appId, [
      ...immediate.map((deviceId) => ({ deviceId, events: [{ type: 'install_ok', bundleVersion: ARM_B }, { type: 'session_start', bundleVersion: ARM_B }] })),
      ...nextLaunch.map((deviceId) => ({ deviceId, events: [{ type: 'session_start', bundleVersion: BASELINE }] })),
    ]);
    const acknowledged = Date.now();
    const results = await waitFor(
      'an experiment look counting the sessions',
      async () => (await ctx.admin.get(`/v1/releases/${id}/experiment`)).body as ExperimentResults,
      (r) => (r.lookedAt ?? 0) > acknowledged && r.arms.every((a) => a.sample > 0),
      { everyMs: 100, timeoutMs: 60_000 },
    );
    const byKey = new Map(results.arms.map((a) => [a.key, a]));
    expect(byKey.get('now')).toMatchObject({ installMode: 'immediate', value: 1, stopped: false });
    expect(byKey.get('later')).toMatchObject({ installMode: 'next_launch', value: 0, control: true });
    expect(byKey.get('now')!.difference!.estimate).toBe(1);
  }, 120_000);

  it('stops an arm that shortens sessions and an arm that cuts use of a guarded feature, each by its own guardrail', async () => {
    const appId = 'com.example.metricguards';
    const fleet = await appOnBaseline(appId, [BASELINE, ARM_B, ARM_C], deviceIds(300, 'guards'));
    const body = {
      arms: [{ key: 'a' }, { key: 'b', version: ARM_B }, { key: 'c', version: ARM_C }],
      primaryMetric: 'session_duration',
      plan: { stages: [{ exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 300 }] },
      timeLimitMs: 600_000,
      minSamplePerArm: 50,
    };
    const unnamed = await ctx.admin.post(`/v1/apps/${appId}/experiments`, { ...body, guardrails: ['feature_use'] });
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.error.details.problems).toEqual([{ path: 'guardrails[0]', message: expect.stringMatching(/^feature_use guards one feature/) }]);
    const twice = await ctx.admin.post(`/v1/apps/${appId}/experiments`, { ...body, guardrails: ['session_duration', { metric: 'session_duration', maxDropPercent: 5 }] });
    expect(twice.status).toBe(400);
    expect(JSON.stringify(twice.body.error)).toMatch(/session_duration is named twice/);

    const started = await ctx.admin.post(`/v1/apps/${appId}/experiments`, {
      ...body,
      guardrails: ['crash_free_sessions', { metric: 'session_duration', maxDropPercent: 5 }, { metric: 'feature_use', feature: 'checkout' }],
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.id as string;
    await waitForServed(ctx.stack, id, (r) => r.status === 'running' && r.exposure.default === 10_000);
    const { armOf, running } = await checkIn(ctx.device, appId, fleet);

    // B's sessions are 30 % shorter (beyond its 5 % allowance); C's users check out half as often.
    const rng = createRng([23, 2026]);
    const results = async () => (await ctx.admin.get(`/v1/releases/${id}/experiment`)).body as ExperimentResults;
    const bothStopped = (r: ExperimentResults) => r.arms.filter((a) => a.stopped).length === 2;
    let now = await results();
    for (let rounds = 0; !bothStopped(now) && rounds < 20; rounds++) {
      await postTelemetry(
        ctx.device,
        appId,
        fleet.map((deviceId) => {
          const arm = armOf.get(deviceId)!;
          const version = running.get(deviceId)!;
          const checkouts = arm === 'c' ? Number(rng.next() < 0.5) : 1;
          return {
            deviceId,
            events: [
              { type: 'session_start', bundleVersion: version },
              ...Array.from({ length: checkouts }, () => ({ type: 'feature_used', bundleVersion: version, feature: 'checkout' })),
              { type: 'session_end', bundleVersion: version, durationMs: normal(rng, arm === 'b' ? SESSION_MS * 0.7 : SESSION_MS, SESSION_SD_MS) },
            ],
          };
        }),
      );
      const acknowledged = Date.now();
      now = await waitFor('an experiment check', results, (r) => bothStopped(r) || (r.lookedAt ?? 0) > acknowledged + 1000 || r.status !== 'running', {
        everyMs: 100,
        timeoutMs: 60_000,
      });
    }
    const byKey = new Map(now.arms.map((a) => [a.key, a]));
    expect(byKey.get('b'), JSON.stringify(now.arms)).toMatchObject({ stopped: true, stoppedReason: expect.stringMatching(/^session_duration -\d+\.\d % vs the control .* more than the 5\.0 % drop/) });
    expect(byKey.get('c'), JSON.stringify(now.arms)).toMatchObject({ stopped: true, stoppedReason: expect.stringMatching(/feature_use of checkout -\d+\.\d % vs the control/) });
    expect(now.metricGuardrails).toEqual([
      { metric: 'session_duration', maxDrop: 0.05 },
      { metric: 'feature_use', feature: 'checkout', maxDrop: 0 },
    ]);
    // Every treatment arm stopped: the experiment ends, and devices on any arm's bundle are told to roll back.
    await waitForServed(ctx.stack, id, (r) => r.status === 'rolled_back');
    const cDevice = fleet.find((d) => armOf.get(d) === 'c')!;
    const back = await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: cDevice, platform: 'android', nativeVersion: '2.0.0', bundleVersion: ARM_C });
    expect(back.body).toMatchObject({ action: 'rollback', bundle: { version: BASELINE } });
  }, 180_000);

  it('judges uses of a named feature per session, counting only that feature', async () => {
    const appId = 'com.example.features';
    const fleet = await appOnBaseline(appId, [BASELINE, ARM_B], deviceIds(120, 'features'));

    const body = {
      arms: [{ key: 'a' }, { key: 'b', version: ARM_B }],
      primaryMetric: 'feature_use',
      plan: { stages: [{ exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 300 }] },
      timeLimitMs: 600_000,
    };
    const unnamed = await ctx.admin.post(`/v1/apps/${appId}/experiments`, body);
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.error.message).toMatch(/feature_use counts one feature: name it/);
    const other = await ctx.admin.post(`/v1/apps/${appId}/experiments`, { ...body, feature: 'other' });
    expect(other.status).toBe(400);
    const misplaced = await ctx.admin.post(`/v1/apps/${appId}/experiments`, { ...body, primaryMetric: 'adoption', feature: 'search' });
    expect(misplaced.status).toBe(400);

    const started = await ctx.admin.post(`/v1/apps/${appId}/experiments`, { ...body, feature: 'search' });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.id as string;
    await waitForServed(ctx.stack, id, (r) => r.status === 'running' && r.exposure.default === 10_000);
    const { armOf, running } = await checkIn(ctx.device, appId, fleet);

    // Arm b searches twice a session, arm a once; uses of another feature must not count.
    await postTelemetry(
      ctx.device,
      appId,
      fleet.map((deviceId) => {
        const version = running.get(deviceId)!;
        const searches = armOf.get(deviceId) === 'b' ? 2 : 1;
        return {
          deviceId,
          events: [
            { type: 'session_start', bundleVersion: version },
            ...Array.from({ length: searches }, () => ({ type: 'feature_used', bundleVersion: version, feature: 'search' })),
            { type: 'feature_used', bundleVersion: version, feature: 'share' },
          ],
        };
      }),
    );
    const sessions = (arm: string) => [...armOf.values()].filter((a) => a === arm).length;
    const results = await waitFor(
      'an experiment look counting every session',
      async () => (await ctx.admin.get(`/v1/releases/${id}/experiment`)).body as ExperimentResults,
      (r) => r.arms.every((a) => a.sample === sessions(a.key)),
      { everyMs: 100, timeoutMs: 60_000 },
    );
    expect(results.primary).toEqual({ metric: 'feature_use', direction: 'higher', feature: 'search' });
    const byKey = new Map(results.arms.map((a) => [a.key, a]));
    expect(byKey.get('a')).toMatchObject({ value: 1, control: true });
    expect(byKey.get('b')).toMatchObject({ value: 2 });
    expect(byKey.get('b')!.relative!.estimate).toBeCloseTo(1, 9);

    // Once the app keeps as many names as it may, a name it does not keep would only ever count as `other`.
    const more = Array.from({ length: MAX_FEATURE_NAMES_PER_APP }, (_, i) => ({ type: 'feature_used', bundleVersion: BASELINE, feature: `f${i}` }));
    await postTelemetry(ctx.device, appId, [{ deviceId: fleet[0]!, events: more }]);
    await waitFor(
      'the app keeping its full count of feature names',
      async () => (await ctx.stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM rollup_feature_names WHERE app_id = $1', [appId])).rows[0]!.n,
      (n) => n === MAX_FEATURE_NAMES_PER_APP,
      { everyMs: 100, timeoutMs: 60_000 },
    );
    const unkept = await ctx.admin.post(`/v1/apps/${appId}/experiments`, { ...body, feature: 'checkout', supersede: true });
    expect(unkept.status).toBe(409);
    expect(unkept.body.error).toMatchObject({ code: 'feature_not_kept', message: expect.stringMatching(/checkout is not among them/), details: { features: ['checkout'] } });
  }, 120_000);
});
