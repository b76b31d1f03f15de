import type { GateSpec } from './gate-spec';
import { gateStateKey } from './gate-judgement';
import type { CohortCounts, GateState, GateWindow, SegmentWindow } from './gate-types';
import { foldCrashRateGate } from './crash-rate-gate';
import { foldRatioGate } from './ratio-gate';
import { foldThresholdGate } from './threshold-gate';
import { foldTripwireGate } from './tripwire-gate';

/**
 * Folds a closed window (null: the metric read failed) into the release's evidence for every gate
 * and segment under test. Each test's state is folded at most once per window even when a stage
 * lists two gates on the same metric: folding twice would count the same evidence twice.
 */
export function foldGateWindow(
  state: GateState,
  window: GateWindow | null,
  gates: readonly GateSpec[],
  segments: readonly string[],
  acceptRatios: readonly number[],
): GateState {
  if (window === null) return { ...state, readErrorsInARow: state.readErrorsInARow + 1 };
  // Within the reporting lag no window has closed since the last check: nothing new to count.
  if (window.end <= window.start) return state;
  const next: GateState = {
    ratio: { ...state.ratio },
    tripwire: { ...state.tripwire },
    crashRate: { ...state.crashRate },
    thresholdFailures: { ...state.thresholdFailures },
    windowsSeen: state.windowsSeen + 1,
    emptyWindowsInARow: segments.some((s) => countsOf(window, s).canary.devices > 0) ? 0 : state.emptyWindowsInARow + 1,
    readErrorsInARow: 0,
  };
  const folded = new Set<string>();
  for (const gate of gates) {
    for (const segment of segments) {
      const key = gateStateKey(gate, segment);
      if (folded.has(`${gate.kind}/${key}`)) continue;
      folded.add(`${gate.kind}/${key}`);
      const counts = countsOf(window, segment);
      switch (gate.kind) {
        case 'ratio':
          next.ratio[key] = foldRatioGate(next.ratio[key], gate, counts, acceptRatios);
          break;
        case 'tripwire':
          next.tripwire[key] = foldTripwireGate(next.tripwire[key], gate, counts);
          break;
        case 'crashRate':
          next.crashRate[key] = foldCrashRateGate(next.crashRate[key], counts);
          break;
        case 'threshold':
          next.thresholdFailures[key] = foldThresholdGate(next.thresholdFailures[key], gate, counts);
          break;
      }
    }
  }
  return next;
}

/** A segment missing from the window had no active devices in it. */
function countsOf(window: GateWindow, segment: string): SegmentWindow {
  const counts = window.segments[segment];
  if (counts === undefined) return { canary: cohort(0, {}), control: cohort(0, {}), canarySliceDevices: 0, controlSliceDevices: 0 };
  return { ...counts, canary: cohort(counts.canary.devices, counts.canary.events), control: cohort(counts.control.devices, counts.control.events) };
}

/**
 * Each device-window counts at most once, so 0 ≤ events ≤ devices. Telemetry joins can break that
 * (late crash reports of devices not seen active); clamping keeps the intervals and logs defined.
 */
function cohort(devices: number, events: Partial<CohortCounts['events']>): CohortCounts {
  const n = clamp(devices, Infinity);
  return {
    devices: n,
    events: {
      crash: clamp(events.crash ?? 0, n),
      js_error: clamp(events.js_error ?? 0, n),
      boot_failed: clamp(events.boot_failed ?? 0, n),
      install_failed: clamp(events.install_failed ?? 0, n),
    },
  };
}

function clamp(count: number, max: number): number {
  return Number.isFinite(count) ? Math.min(Math.max(count, 0), max) : 0;
}
