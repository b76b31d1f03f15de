/**
 * The compressed plan fleet runs use: the default gates' statistics on a timescale of seconds. The
 * ratio gate asks for a must-catch ratio of 2 throughout, so a simulated fleet of a few thousand
 * devices gathers enough evidence within seconds per stage (gates.md §4.4 stage sizing).
 */
export function fleetPlan(options: { soakMs: number; checkIntervalMs: number; alpha: number }) {
  const gates = [
    { kind: 'ratio', metric: 'crash', rDetect: 2 },
    { kind: 'tripwire', metric: 'boot_failed' },
    { kind: 'tripwire', metric: 'install_failed' },
  ];
  const stage = (exposureBps: number) => ({ exposureBps, minSoakMs: options.soakMs, maxSoakMs: options.soakMs * 12, checkIntervalMs: options.checkIntervalMs, gates });
  return { stages: [stage(1000), stage(2500), stage(5000), stage(10_000)], gateSettings: { alpha: options.alpha } };
}
