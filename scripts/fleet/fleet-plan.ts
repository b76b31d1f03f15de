/**
 * The compressed plan fleet runs use: the default gates' statistics on a timescale of seconds. The
 * ratio gate asks for a must-catch ratio of 2 throughout, so a simulated fleet of a few thousand
 * devices gathers enough evidence within seconds per stage (gates.md §4.4 stage sizing).
 *
 * Soaks are counted in gate checks, because the fleet ticks once per check (`runFleet`): a stage
 * sees `minSoakChecks` ticks of evidence at least, and pauses for want of a verdict only after
 * `maxSoakChecks` checks — set far above what the ratio test needs, so that checks a busy machine
 * leaves without a tick cannot run a good release into its maximum soak.
 */
export function fleetPlan(options: { checkIntervalMs: number; minSoakChecks: number; maxSoakChecks: number; alpha: number }) {
  const gates = [
    { kind: 'ratio', metric: 'crash', rDetect: 2 },
    { kind: 'tripwire', metric: 'boot_failed' },
    { kind: 'tripwire', metric: 'install_failed' },
  ];
  const { checkIntervalMs } = options;
  const stage = (exposureBps: number) => ({
    exposureBps,
    minSoakMs: options.minSoakChecks * checkIntervalMs,
    maxSoakMs: options.maxSoakChecks * checkIntervalMs,
    checkIntervalMs,
    gates,
  });
  return { stages: [stage(1000), stage(2500), stage(5000), stage(10_000)], gateSettings: { alpha: options.alpha } };
}
