import { describe, expect, it } from 'vitest';
import { createAppWithBundles, deviceInBuckets, startRelease, bucketSaltOf } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';

const APP = 'com.example.gauges';
const plan = { stages: [1000, 10_000].map((exposureBps) => ({ segments: ['default'], exposureBps, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] })) };

/** The samples of one metric in the exposition text: labels (as written) → value. */
function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (match) found.set(match[1]!, Number(match[2]));
  }
  return found;
}

describe('per-release gauges on the API registry', () => {
  const ctx = useTestStack();

  it('carry app, version and segment (and cohort) of a running release, and go when it ends', async () => {
    await createAppWithBundles(ctx.admin, APP, ['1.0.0']);
    const id = await startRelease(ctx.admin, APP, { version: '1.0.0', plan });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running' && r.exposure.default === 1000);
    const salt = await bucketSaltOf(ctx.stack, id);
    const at = new Date().toISOString();
    const report = (deviceId: string, events: Array<Record<string, unknown>>) =>
      ctx.device.post(`/v1/apps/${APP}/events`, { deviceId, platform: 'ios', nativeVersion: '3.0.0', events: events.map((e) => ({ at, ...e })) });

    // Two canary devices install the release, one crashes on it, one fails an install once; control and rest stay on the binary.
    // (A canary device reporting on the binary would count in `rest` too: rollups are per cohort, the gauges add them up.)
    const canaryA = deviceInBuckets(salt, 0, 1000, 'a');
    const canaryB = deviceInBuckets(salt, 0, 1000, 'b');
    expect((await report(canaryA, [{ type: 'install_ok', bundleVersion: '1.0.0' }, { type: 'crash', bundleVersion: '1.0.0' }])).status).toBe(202);
    expect((await report(canaryB, [{ type: 'install_failed', bundleVersion: '1.0.0' }, { type: 'install_ok', bundleVersion: '1.0.0' }])).status).toBe(202);
    expect((await report(deviceInBuckets(salt, 1000, 2000, 'c'), [{ type: 'session_start', bundleVersion: 'builtin' }])).status).toBe(202);
    expect((await report(deviceInBuckets(salt, 2000, 10_000, 'd'), [{ type: 'session_start', bundleVersion: 'builtin' }])).status).toBe(202);

    const text = await ctx.stack.api.deps.registry.metrics();
    const labels = `app="${APP}",version="1.0.0",segment="default"`;
    expect(samples(text, 'rampart_release_exposure_ratio')).toEqual(new Map([[labels, 0.1]]));
    expect(samples(text, 'rampart_release_adoption_ratio')).toEqual(new Map([[labels, 0.5]]));
    expect(samples(text, 'rampart_release_update_success_ratio')).toEqual(new Map([[labels, 2 / 3]]));
    expect(samples(text, 'rampart_release_crash_rate')).toEqual(
      new Map([
        [`${labels},cohort="canary"`, 0.5],
        [`${labels},cohort="control"`, 0],
      ]),
    );
    expect(text).toMatch(/^rampart_release_gauge_series_dropped_total 0$/m);

    const aborted = await ctx.admin.post(`/v1/releases/${id}/abort`, { reason: 'gauges test is done' });
    expect(aborted.status).toBe(200);
    await waitForServed(ctx.stack, id, (r) => r.status === 'aborted');
    const after = await ctx.stack.api.deps.registry.metrics();
    for (const name of ['rampart_release_exposure_ratio', 'rampart_release_adoption_ratio', 'rampart_release_update_success_ratio', 'rampart_release_crash_rate']) {
      expect(samples(after, name).size, name).toBe(0);
    }
  });
});
