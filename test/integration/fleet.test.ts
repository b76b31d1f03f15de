import { describe, expect, it } from 'vitest';
import { fleetPlan } from '../../scripts/fleet/fleet-plan';
import { runFleet } from '../../scripts/fleet/fleet-simulation';
import { useTestStack } from '../support/test-stack';

const FLEET_TIMEOUT_MS = 170_000;

describe('a simulated fleet on the real stack (small size; full size: npm run sim:fleet)', () => {
  // Time runs ~100× fast here: a device checks and reports every second instead of every few
  // minutes, so its rate limit is scaled the same way.
  const ctx = useTestStack({ deviceRateLimit: { perSecond: 100, burst: 100 } });
  const fleet = (appId: string, crashRatio: number) =>
    runFleet({
      baseUrl: ctx.stack.baseUrl,
      adminKey: ctx.stack.adminKey,
      appId,
      devices: 600,
      crashRatio,
      // A high base rate buys the ratio test its evidence with few requests per tick.
      baseCrashRate: 0.15,
      activeShare: 0.6,
      adoptionRate: 0.6,
      // The fleet ticks at most once per check, and a check lasts longer than an unloaded tick, so
      // a tick that a starved machine stretches over several checks still feeds each of them. 40
      // checks is several times what the 10 % stage needs at this size. A small alpha keeps a false
      // rollback of the good release (a flaky test) near one in a thousand.
      target: { kind: 'new', plan: fleetPlan({ checkIntervalMs: 2000, minSoakChecks: 2, maxSoakChecks: 40, alpha: 0.001 }) },
      // Below the test's own timeout, so a stuck run fails naming what it waited for.
      timeoutMs: FLEET_TIMEOUT_MS,
      seed: 11,
    });

  it('takes a good release to 100 %', async () => {
    const report = await fleet('com.example.fleet.good', 1);
    expect(report.outcome, JSON.stringify(report)).toBe('completed');
    // How many devices adopted it while it ran depends on how many ticks the stages lasted; that
    // every device is served it once it is complete does not.
    expect(report.onCandidateAfterCompletion).toBe(1);
  }, FLEET_TIMEOUT_MS + 10_000);

  it('rolls a bad release (5× crash rate) back on its own and sends every device back', async () => {
    const report = await fleet('com.example.fleet.bad', 5);
    expect(report.outcome, JSON.stringify(report)).toBe('rolled_back');
    expect(report.exposedShare).toBeLessThan(0.25);
    expect(report.stillOnWithdrawn).toBe(0);
  }, FLEET_TIMEOUT_MS + 10_000);
});
