import { BPS_SCALE, controlSliceBps } from '../../domain/bucketing';
import type { CohortCounts, SegmentWindow } from '../../domain/gates/gate-types';
import { binomial } from './binomial';
import type { Rng } from '../../scripts/support/prng';

/** A segment of the synthetic fleet: its size and how active its devices are relative to the rest. */
export interface SegmentModel {
  key: string;
  devices: number;
  activityMultiplier: number;
}

/** Everything about the fleet that does not depend on the release (gates.md §5.1). */
export interface FleetModel {
  segments: SegmentModel[];
  /** Mean share of a segment's devices active in an hour. */
  activeFraction: number;
  /** Relative diurnal swing of activity (0.5: ±50 %). */
  activityAmplitude: number;
  /** Baseline P(≥ 1 event | active device-hour) per metric. */
  crashRate: number;
  jsErrorRate: number;
  bootFailureRate: number;
  installFailureRate: number;
  /** Relative diurnal swing of the crash and JS-error rates, shared by both cohorts. */
  rateAmplitude: number;
  /** Local hour of peak activity and peak rates; and local hour at which the release starts. */
  peakHour: number;
  startHour: number;
  /** Per-hour hazard with which an eligible device applies an update (on its next launch). */
  adoptionHazard: number;
  /**
   * matched: the control slice gets a placebo update at the same hazard and only its adopters count;
   * unmatched: every device not running the new bundle is the control.
   */
  control: 'matched' | 'unmatched';
  /** Multiplies the base rates of devices that applied any update (the adopter bias). */
  adopterBias: number;
}

/** What is wrong with the new bundle: rate multipliers from an onset hour on. */
export interface Defect {
  crashRatio: number;
  jsErrorRatio: number;
  onsetHour: number;
}

/**
 * Devices of one segment between two bucket boundaries. Exposure only grows within a release, so a
 * stratum is canary, control or neither as a whole once the boundaries include every exposure of
 * the plan and the end of its control slice.
 */
interface Stratum {
  loBps: number;
  hiBps: number;
  devices: number;
  onNewBundle: number;
  onPlacebo: number;
}

interface SegmentState {
  model: SegmentModel;
  strata: Stratum[];
}

/** The mutable fleet of one replicate. */
export interface Fleet {
  model: FleetModel;
  segments: SegmentState[];
}

/** Per-stratum random streams: the simulator keys them by (replicate, hour, segment, stratum). */
export type StreamFor = (segmentIndex: number, stratumIndex: number) => Rng;

export function createFleet(model: FleetModel, exposuresBps: readonly number[]): Fleet {
  const cuts = new Set([0, BPS_SCALE]);
  for (const e of exposuresBps) {
    cuts.add(e);
    cuts.add(e + controlSliceBps(e));
  }
  const bounds = [...cuts].sort((a, b) => a - b);
  return {
    model,
    segments: model.segments.map((segment) => ({
      model: segment,
      strata: bounds.slice(1).map((hiBps, i) => {
        const loBps = bounds[i]!;
        // Rounding cumulative shares keeps the strata summing to the segment exactly.
        const devices = Math.round((segment.devices * hiBps) / BPS_SCALE) - Math.round((segment.devices * loBps) / BPS_SCALE);
        return { loBps, hiBps, devices, onNewBundle: 0, onPlacebo: 0 };
      }),
    })),
  };
}

/** Devices that have applied the new bundle so far (all of them count as exposed). */
export function exposedDevices(fleet: Fleet): number {
  let total = 0;
  for (const segment of fleet.segments) for (const s of segment.strata) total += s.onNewBundle;
  return total;
}

/** The day's shape: +1 at the peak hour, −1 twelve hours later. */
function diurnal(model: FleetModel, hour: number): number {
  return Math.cos((2 * Math.PI * (model.startHour + hour - model.peakHour)) / 24);
}

interface HourRates {
  active: number;
  crash: number;
  jsError: number;
  crashRatio: number;
  jsErrorRatio: number;
}

function ratesAt(model: FleetModel, defect: Defect, hour: number): HourRates {
  const day = diurnal(model, hour);
  const rateFactor = 1 + model.rateAmplitude * day;
  const defective = hour >= defect.onsetHour;
  return {
    active: model.activeFraction * (1 + model.activityAmplitude * day),
    crash: model.crashRate * rateFactor,
    jsError: model.jsErrorRate * rateFactor,
    crashRatio: defective ? defect.crashRatio : 1,
    jsErrorRatio: defective ? defect.jsErrorRatio : 1,
  };
}

const emptyCohort = (): CohortCounts => ({ devices: 0, events: { crash: 0, js_error: 0, boot_failed: 0, install_failed: 0 } });

/** P(≥ 1 event | active device-hour) per gate metric for the devices of one bundle in one hour. */
interface EventRates {
  crash: number;
  jsError: number;
  bootFailure: number;
  installFailure: number;
}

/** Draws the active devices among `devices` and their events into a cohort's counts; returns how many were active. */
function countActive(rng: Rng, into: CohortCounts, devices: number, active: number, rates: EventRates): number {
  const n = binomial(rng, devices, active);
  into.devices += n;
  into.events.crash += binomial(rng, n, rates.crash);
  into.events.js_error += binomial(rng, n, rates.jsError);
  into.events.boot_failed += binomial(rng, n, rates.bootFailure);
  into.events.install_failed += binomial(rng, n, rates.installFailure);
  return n;
}

/**
 * Advances the fleet through one hour at the given exposure: eligible devices adopt (canary: the
 * new bundle; matched control: the placebo), then the hour's active devices and the devices among
 * them with ≥ 1 event are drawn, binarised per device-window. Returns the hour's counting window.
 */
export function stepHour(
  fleet: Fleet,
  exposureBps: Readonly<Record<string, number>>,
  defect: Defect,
  hour: number,
  streamFor: StreamFor,
): Record<string, SegmentWindow> {
  const { model } = fleet;
  const rates = ratesAt(model, defect, hour);
  const adopt = 1 - Math.exp(-model.adoptionHazard);
  const bias = model.adopterBias;
  const onNewBundle: EventRates = {
    crash: rates.crash * bias * rates.crashRatio,
    jsError: rates.jsError * bias * rates.jsErrorRatio,
    bootFailure: model.bootFailureRate,
    installFailure: model.installFailureRate,
  };
  // Update failures are judged on the canary only (tripwires), so the baseline's are not drawn.
  const onPlacebo: EventRates = { crash: rates.crash * bias, jsError: rates.jsError * bias, bootFailure: 0, installFailure: 0 };
  const onBaseline: EventRates = { crash: rates.crash, jsError: rates.jsError, bootFailure: 0, installFailure: 0 };
  const windows: Record<string, SegmentWindow> = {};
  fleet.segments.forEach((segment, segmentIndex) => {
    const canaryBps = exposureBps[segment.model.key] ?? 0;
    if (canaryBps <= 0) return;
    const controlEndBps = canaryBps + controlSliceBps(canaryBps);
    const active = rates.active * segment.model.activityMultiplier;
    const window: SegmentWindow = { canary: emptyCohort(), control: emptyCohort(), canarySliceDevices: 0, controlSliceDevices: 0 };
    segment.strata.forEach((s, stratumIndex) => {
      const rng = streamFor(segmentIndex, stratumIndex);
      const baseline = s.devices - s.onNewBundle - s.onPlacebo;
      if (s.hiBps <= canaryBps) {
        const fromBaseline = binomial(rng, baseline, adopt);
        const fromPlacebo = binomial(rng, s.onPlacebo, adopt);
        s.onNewBundle += fromBaseline + fromPlacebo;
        s.onPlacebo -= fromPlacebo;
        const onNew = countActive(rng, window.canary, s.onNewBundle, active, onNewBundle);
        // Non-adopters of the canary slice: in the slice count always, in the control only when unmatched.
        const others =
          model.control === 'unmatched'
            ? countActive(rng, window.control, s.devices - s.onNewBundle, active, onBaseline)
            : binomial(rng, s.devices - s.onNewBundle, active);
        window.canarySliceDevices += onNew + others;
      } else if (model.control === 'matched') {
        if (s.hiBps > controlEndBps) return;
        s.onPlacebo += binomial(rng, baseline, adopt);
        const placeboActive = countActive(rng, window.control, s.onPlacebo, active, onPlacebo);
        const others = binomial(rng, s.devices - s.onPlacebo, active);
        window.controlSliceDevices += placeboActive + others;
      } else {
        const baselineActive = countActive(rng, window.control, s.devices, active, onBaseline);
        if (s.hiBps <= controlEndBps) window.controlSliceDevices += baselineActive;
      }
    });
    windows[segment.model.key] = window;
  });
  return windows;
}
