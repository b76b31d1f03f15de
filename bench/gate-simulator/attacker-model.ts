import type { CohortCounts, SegmentWindow, WindowTrust } from '../../domain/gates/gate-types';

/**
 * What a forger adds to every hour's counting window (README, "Trust model for telemetry"):
 * - `forged-failures`: `ids` made-up ids a check told were canaries report a boot failure and a
 *   crash each; `at-once` reports in the hour they were served (set aside as fresh), `after-a-window`
 *   waits an hour, so the served rule makes them newcomers that count unless the window is distrusted.
 * - `padding`: `ids` made-up devices per cohort, served an hour earlier (newcomers), healthy in the
 *   canary while the forged control crashes as often as the real canary: made to look alike, so the
 *   acceptance test would pass a regressed stage if it counted them.
 */
export type Attack =
  | { kind: 'none' }
  | { kind: 'forged-failures'; ids: number; timing: 'at-once' | 'after-a-window' }
  | { kind: 'padding'; ids: number };

export function attackLabel(attack: Attack): string {
  switch (attack.kind) {
    case 'none':
      return 'none (honest fleet, trust split on)';
    case 'forged-failures':
      return `forged failures, ${attack.ids}/h, ${attack.timing}`;
    case 'padding':
      return `look-alike padding, ${attack.ids}/h per cohort`;
  }
}

/** Canary devices with any gate-metric event: at most the sum of the per-metric counts. */
const failing = (c: CohortCounts) => Math.min(c.devices, c.events.crash + c.events.js_error + c.events.boot_failed + c.events.install_failed);

const honestTrust = (w: SegmentWindow): WindowTrust => ({
  // The simulated fleet existed before the release: every honest device is a veteran.
  veteranDevices: w.canarySliceDevices + w.controlSliceDevices,
  newcomerDevices: 0,
  freshDevices: 0,
  unservedDevices: 0,
  veteranFailing: failing(w.canary),
  newcomerFailing: 0,
  setAsideFailing: 0,
  // What the store reads apart: the veterans are the whole honest fleet.
  veteranCanary: w.canary,
  veteranControl: w.control,
});

const addTo = (c: CohortCounts, devices: number, events: Partial<CohortCounts['events']>): CohortCounts => ({
  devices: c.devices + devices,
  events: {
    crash: c.events.crash + (events.crash ?? 0),
    js_error: c.events.js_error + (events.js_error ?? 0),
    boot_failed: c.events.boot_failed + (events.boot_failed ?? 0),
    install_failed: c.events.install_failed + (events.install_failed ?? 0),
  },
});

/**
 * The window as the gate-window store would read it under the attack: established counts (veterans
 * and newcomers) in the cohorts, the rest in `trust` only.
 */
export function withAttack(windows: Record<string, SegmentWindow>, attack: Attack): Record<string, SegmentWindow> {
  const attacked: Record<string, SegmentWindow> = {};
  for (const [segment, w] of Object.entries(windows)) {
    attacked[segment] = attackSegment({ ...w, trust: honestTrust(w) }, attack);
  }
  return attacked;
}

function attackSegment(w: SegmentWindow, attack: Attack): SegmentWindow {
  const trust = w.trust!;
  switch (attack.kind) {
    case 'none':
      return w;
    case 'forged-failures':
      if (attack.timing === 'at-once') return { ...w, trust: { ...trust, freshDevices: attack.ids, setAsideFailing: attack.ids } };
      return {
        ...w,
        canary: addTo(w.canary, attack.ids, { boot_failed: attack.ids, crash: attack.ids }),
        canarySliceDevices: w.canarySliceDevices + attack.ids,
        trust: { ...trust, newcomerDevices: attack.ids, newcomerFailing: attack.ids },
      };
    case 'padding': {
      const canary = addTo(w.canary, attack.ids, {});
      const canaryRate = canary.events.crash / Math.max(1, canary.devices);
      const controlDevices = w.control.devices + attack.ids;
      const forgedCrashes = Math.max(0, Math.min(attack.ids, Math.round(canaryRate * controlDevices) - w.control.events.crash));
      return {
        ...w,
        canary,
        control: addTo(w.control, attack.ids, { crash: forgedCrashes }),
        canarySliceDevices: w.canarySliceDevices + attack.ids,
        controlSliceDevices: w.controlSliceDevices + attack.ids,
        trust: { ...trust, newcomerDevices: 2 * attack.ids },
      };
    }
  }
}
