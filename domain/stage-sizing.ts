import { BPS_SCALE } from './bucketing';
import type { Plan } from './plan';
import { BETA_SEGMENT } from './segment';

/**
 * Below this many canary devices a stage rarely gathers the evidence its gates need within its
 * soak (gates.md §4.4: size stages by expected events, not by percentage): the ratio tests need a
 * few events in each cohort, the crash-rate ceiling 200 device-windows.
 */
export const MIN_STAGE_CANARY_DEVICES = 100;

const percent = (bps: number) => `${(bps / 100).toLocaleString('en-US', { maximumFractionDigits: 2 })} %`;

/**
 * What a release engineer should know before a plan meets a fleet too small for it: the stages that
 * would expose fewer than MIN_STAGE_CANARY_DEVICES of the devices active on the channel, with the
 * numbers and the smallest exposure that would do. Stages of the beta segment alone are exempt.
 */
export function stageSizingWarnings(plan: Plan, activeDevices: number, channel: string): string[] {
  if (activeDevices === 0) {
    return [
      `no device of channel ${channel} was seen in the last 24 h, so the gates will have nothing to judge and the release will pause ` +
        `for lack of data; point devices (or a simulated fleet: npm run demo) at the API first`,
    ];
  }
  const enough = Math.min(BPS_SCALE, Math.ceil((MIN_STAGE_CANARY_DEVICES / activeDevices) * BPS_SCALE));
  return plan.stages
    .filter((stage) => stage.exposureBps < BPS_SCALE && !stage.segments.every((s) => s === BETA_SEGMENT))
    .map((stage) => ({ stage, devices: Math.round((activeDevices * stage.exposureBps) / BPS_SCALE) }))
    .filter(({ devices }) => devices < MIN_STAGE_CANARY_DEVICES)
    .map(
      ({ stage, devices }) =>
        `stage ${stage.name} exposes ${percent(stage.exposureBps)}: about ${devices} of the ${activeDevices} devices active on ${channel} in the last 24 h, ` +
        `fewer than the ${MIN_STAGE_CANARY_DEVICES} its gates need to decide within its soak, so expect it to pause at its maximum soak; ` +
        `${enough < BPS_SCALE ? `start at ${percent(enough)} or more (exposureBps ≥ ${enough}), or ` : ''}give it a longer maxSoakMs`,
    );
}
