import { describe, expect, it } from 'vitest';
import { fleetPlan } from '../../scripts/fleet/fleet-plan';
import { runFleet } from '../../scripts/fleet/fleet-simulation';
import { useTestStack } from '../support/test-stack';

describe('a simulated fleet on the real stack (small size; full size: npm run sim:fleet)', () => {
  // Time runs ~100× fast here: a device checks and reports every few hundred milliseconds instead of
  // every few minutes, so its rate limit is scaled the same way.
  const ctx = useTestStack({ deviceRateLimit: { perSecond: 100, burst: 100 } });
  const fleet = (appId: string, crashRatio: number) =>
    runFleet({
      baseUrl: ctx.stack.baseUrl,
      adminKey: ctx.stack.adminKey,
      appId,
      devices: 500,
      crashRatio,
      baseCrashRate: 0.04,
      activeShare: 0.6,
      adoptionRate: 0.6,
      tickMs: 400,
      // A small alpha keeps a false rollback of the good release (a flaky test) near one in a thousand.
      plan: fleetPlan({ soakMs: 2500, checkIntervalMs: 400, alpha: 0.001 }),
      timeoutMs: 150_000,
      seed: 11,
    });

  it('takes a good release to 100 %', async () => {
    const report = await fleet('com.example.fleet.good', 1);
    expect(report.outcome).toBe('completed');
    expect(report.exposedShare).toBeGreaterThan(0.5);
  });

  it('rolls a bad release (5× crash rate) back on its own and sends every device back', async () => {
    const report = await fleet('com.example.fleet.bad', 5);
    expect(report.outcome).toBe('rolled_back');
    expect(report.exposedShare).toBeLessThan(0.25);
    expect(report.stillOnWithdrawn).toBe(0);
  });
});
