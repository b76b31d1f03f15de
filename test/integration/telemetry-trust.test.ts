import { describe, expect, it } from 'vitest';
import { bucketSaltOf, createAppWithBundles, devicesInBuckets, establishDevices, postTelemetry, startRelease, type TelemetryEvent } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';
import { waitFor } from '../../scripts/support/until';

interface Finding {
  gate: string;
  verdict: string;
  message: string;
}

interface ReleaseDetails {
  status: string;
  stageIndex: number;
  reason: string | null;
  gates: {
    verdict: string;
    evidence: {
      windowEnd: number | null;
      findings: Finding[];
      trust?: { distrusted: boolean; totals: { devices: number; failing: number; distrustedWindows: number } };
    };
  } | null;
  history: Array<{ event: string }>;
}

const IN_FLIGHT = ['pending', 'running'];

const DAY_MS = 86_400_000;

describe('telemetry trust model', () => {
  // Clients say who they are in X-Forwarded-For (trusted from loopback); plain loopback is not limited.
  // A window of 100 days: no test straddles two.
  const ctx = useTestStack({ trustProxy: 'loopback', sourceLimit: { windowMs: 100 * DAY_MS, newDevicesPerWindow: 50, eventsPerWindow: 200 } });

  const read = async (id: string) => (await ctx.admin.get(`/v1/releases/${id}`)).body as ReleaseDetails;

  /** Starts a completed baseline 1.0.0, then the candidate 2.0.0 with the plan; returns the candidate's id and salt. */
  const startCandidate = async (appId: string, plan: Record<string, unknown>) => {
    await createAppWithBundles(ctx.admin, appId, ['1.0.0', '2.0.0']);
    const base = await startRelease(ctx.admin, appId, { version: '1.0.0', plan: { stages: [{ exposureBps: 10_000, minSoakMs: 100, checkIntervalMs: 100, gates: [] }] } });
    await waitForServed(ctx.stack, base, (r) => r.status === 'completed');
    const id = await startRelease(ctx.admin, appId, { version: '2.0.0', plan });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running');
    return { id, salt: await bucketSaltOf(ctx.stack, id) };
  };

  /** Posts rounds of telemetry until the release leaves `running`; each round waits for a gate check that counted it. */
  const reportUntilSettled = async (id: string, round: (n: number) => Promise<void>) => {
    let details = await read(id);
    for (let n = 0; IN_FLIGHT.includes(details.status); n++) {
      await round(n);
      const acknowledged = Date.now();
      details = await waitFor(
        `a gate check of release ${id} counting telemetry acknowledged by ${acknowledged}, or the release to settle`,
        () => read(id),
        (r) => !IN_FLIGHT.includes(r.status) || (r.gates?.evidence.windowEnd ?? -Infinity) > acknowledged,
        { everyMs: 100, timeoutMs: 60_000 },
      );
    }
    return details;
  };

  it('does not roll back a good release when made-up ids learn they are canaries and report boot failures: it pauses on a data-quality finding', async () => {
    const appId = 'com.example.forgedfailures';
    // Default gates; a long minimum soak, as the measured attack hit a release in its minimum soak.
    const { id, salt } = await startCandidate(appId, {
      stages: [
        { exposureBps: 2000, minSoakMs: 600_000, checkIntervalMs: 10_000 },
        { exposureBps: 10_000, minSoakMs: 1000, checkIntervalMs: 1000 },
      ],
    });
    // The salt is a secret of the release: not its id, and in no answer of the API.
    expect(salt).not.toBe(id);
    expect(JSON.stringify((await ctx.admin.get(`/v1/releases/${id}`)).body)).not.toContain(salt);
    expect(JSON.stringify((await ctx.admin.get(`/v1/apps/${appId}/releases`)).body)).not.toContain(salt);
    const canary = devicesInBuckets(salt, 0, 2000, 40, 'honest-c');
    const control = devicesInBuckets(salt, 2000, 4000, 40, 'honest-b');
    await establishDevices(ctx.stack, appId, [...canary, ...control]);
    const healthy = (version: string): TelemetryEvent[] => [{ type: 'session_start', bundleVersion: version }];

    // The attacker knows no salt: it invents ids and asks which are canaries.
    const invented = Array.from({ length: 400 }, (_, i) => `forged-${i}`);
    const answers = await Promise.all(
      invented.map(async (deviceId) => ({
        deviceId,
        answer: (await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId, platform: 'android', nativeVersion: '2.0.0', bundleVersion: '1.0.0' })).body as { action: string },
      })),
    );
    const learned = answers.filter((a) => a.answer.action === 'update').map((a) => a.deviceId);
    expect(learned.length).toBeGreaterThan(20);

    const settled = await reportUntilSettled(id, async (n) => {
      await postTelemetry(ctx.device, appId, [
        ...canary.map((deviceId) => ({ deviceId, events: healthy('2.0.0') })),
        ...control.map((deviceId) => ({ deviceId, events: healthy('1.0.0') })),
        ...(n === 0 ? learned.map((deviceId) => ({ deviceId, events: [{ type: 'boot_failed', bundleVersion: '2.0.0' }, { type: 'crash', bundleVersion: '2.0.0' }] })) : []),
      ]);
    });

    expect(settled.status, settled.reason ?? undefined).toBe('paused');
    expect(settled.history.map((t) => t.event)).not.toContain('rolled_back');
    expect(settled.reason).toMatch(/new device ids/);
    const trust = settled.gates?.evidence.trust;
    expect(trust?.distrusted).toBe(true);
    expect(trust?.totals.failing).toBeGreaterThanOrEqual(Math.min(learned.length, 3));
    expect(trust?.totals.devices).toBeGreaterThanOrEqual(learned.length);
    // Devices are still served the release: a pause is not a rollback.
    const answer = await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: canary[0], platform: 'android', nativeVersion: '2.0.0', bundleVersion: '1.0.0' });
    expect(answer.body).toMatchObject({ action: 'update', releaseId: id });
  });

  it('does not advance a stage whose established devices regress when made-up devices pad both cohorts to look alike', async () => {
    const appId = 'com.example.padding';
    const { id, salt } = await startCandidate(appId, {
      stages: [
        { exposureBps: 2000, minSoakMs: 1500, maxSoakMs: 600_000, checkIntervalMs: 4000, gates: [{ kind: 'ratio', metric: 'crash', rDetect: 3 }] },
        { exposureBps: 10_000, minSoakMs: 1000, checkIntervalMs: 1000, gates: [] },
      ],
    });
    const canary = devicesInBuckets(salt, 0, 2000, 40, 'real-c');
    const control = devicesInBuckets(salt, 2000, 4000, 40, 'real-b');
    await establishDevices(ctx.stack, appId, [...canary, ...control]);
    // Worst case: the attacker knows the salt. Its control devices crash as often as the real canaries.
    const padCanary = devicesInBuckets(salt, 0, 2000, 500, 'pad-c');
    const padControl = devicesInBuckets(salt, 2000, 4000, 500, 'pad-b');
    const session = (version: string, crash: boolean): TelemetryEvent[] => [
      { type: 'session_start', bundleVersion: version },
      ...(crash ? [{ type: 'crash', bundleVersion: version }] : []),
    ];

    const settled = await reportUntilSettled(id, async () => {
      await postTelemetry(ctx.device, appId, [
        ...canary.map((deviceId, i) => ({ deviceId, events: session('2.0.0', i % 4 === 0) })),
        ...control.map((deviceId) => ({ deviceId, events: session('1.0.0', false) })),
        ...padCanary.map((deviceId) => ({ deviceId, events: session('2.0.0', false) })),
        ...padControl.map((deviceId, i) => ({ deviceId, events: session('1.0.0', i < 10) })),
      ]);
    });

    expect(settled.history.filter((t) => t.event === 'stage_started')).toHaveLength(1);
    expect(settled.stageIndex).toBe(0);
    expect(['paused', 'rolled_back']).toContain(settled.status);
    const findings = settled.gates?.evidence.findings ?? [];
    expect(findings.some((f) => f.gate === 'data_quality' && /burst of new device ids/.test(f.message))).toBe(true);
    expect(settled.gates?.evidence.trust?.totals.devices).toBeGreaterThanOrEqual(50);
  });

  it('limits the new device ids and the events one client address brings per window, with 429 and Retry-After', async () => {
    const appId = 'com.example.sources';
    await createAppWithBundles(ctx.admin, appId, ['1.0.0']);
    // The snapshot learns of a new app by NOTIFY; without a release to wait for, the test loads it.
    await ctx.stack.api.deps.snapshot.refreshApp(appId);
    const from = (address: string) => ({ 'x-forwarded-for': address });
    const check = (deviceId: string, address: string) =>
      ctx.device.post(`/v1/apps/${appId}/check`, { deviceId, platform: 'android', nativeVersion: '2.0.0', bundleVersion: 'builtin' }, from(address));

    const first = await Promise.all(Array.from({ length: 50 }, (_, i) => check(`src-${i}`, '203.0.113.7')));
    expect(first.map((r) => r.status)).toEqual(Array(50).fill(200));
    const refused = await check('src-50', '203.0.113.7');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.body.error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/^too many new device ids from this address/) });
    // Ids it already brought are not new; another address has its own budget.
    expect((await check('src-0', '203.0.113.7')).status).toBe(200);
    expect((await check('src-50', '203.0.113.8')).status).toBe(200);

    const events = (n: number) => ({
      deviceId: 'src-0',
      platform: 'android',
      nativeVersion: '2.0.0',
      events: Array.from({ length: n }, () => ({ type: 'session_start', at: new Date().toISOString(), bundleVersion: 'builtin' })),
    });
    const post = () => ctx.device.post(`/v1/apps/${appId}/events`, events(60), from('198.51.100.9'));
    expect((await post()).status).toBe(202);
    expect((await post()).status).toBe(202);
    expect((await post()).status).toBe(202);
    const tooMany = await post();
    expect(tooMany.status).toBe(429);
    expect(tooMany.body.error.message).toMatch(/^too many events from this address/);
  });
});
