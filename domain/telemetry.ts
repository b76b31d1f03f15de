import { cohortOf } from './bucketing';
import { BUILTIN_VERSION } from './bundle';
import { DAY_MS } from './time';
import type { GateMetric } from './gates/gate-spec';
import { attributeExperimentEvent } from './experiment-serving';
import { targetFor } from './personalization';
import type { ChannelServing } from './serving';

/** Device clocks drift and events are uploaded late, but not by more than this, nor from the future. */
export const EVENT_CLOCK = { maxAgeMs: 30 * DAY_MS, maxAheadMs: DAY_MS } as const;

/** Whether a device's timestamp for an event can be believed, given when the event arrived. */
export function isPlausibleEventTime(atMs: number, receivedAtMs: number): boolean {
  return atMs > receivedAtMs - EVENT_CLOCK.maxAgeMs && atMs < receivedAtMs + EVENT_CLOCK.maxAheadMs;
}

export const EVENT_TYPES = ['install_ok', 'install_failed', 'boot_failed', 'crash', 'js_error', 'session_start', 'session_end', 'feature_used'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Device events that count against a gate metric. */
export const GATE_METRIC_OF: Partial<Record<EventType, GateMetric>> = {
  crash: 'crash',
  js_error: 'js_error',
  boot_failed: 'boot_failed',
  install_failed: 'install_failed',
};

/** Where one event of a device counts: its release, segment, bucket slice and cohort. */
export interface Attribution {
  releaseId: string | null;
  /** Bucket slice of the release's exposure the device falls in, while the release is in flight (an experiment's: the arm). */
  slice: 'canary' | 'control' | `arm:${string}` | null;
  /** The device ran the bundle its slice should run (canary: the target; control: the baseline). */
  onCohortBundle: boolean;
  cohort: 'canary' | 'control' | 'none';
  windowMs: number | null;
  /** The device's arm while an experiment is in flight; its rollup cohort is then the arm's. */
  arm: string | null;
}

const NONE: Attribution = { releaseId: null, slice: null, onCohortBundle: false, cohort: 'none', windowMs: null, arm: null };

/**
 * Attributes an event to the channel's release in flight. `bundleVersion` is the bundle the event
 * happened on (for install events: the bundle being installed), so canary devices count only once
 * they run their segment's target — exactly the devices whose failures the gate should see.
 */
export function attributeEvent(serving: ChannelServing | undefined, deviceId: string, segment: string, bundleVersion: string): Attribution {
  const release = serving?.current;
  if (!release) return NONE;
  if (release.status !== 'running' && release.status !== 'paused') return { ...NONE, releaseId: release.releaseId };
  if (release.experiment) return attributeExperimentEvent(release, release.experiment, deviceId, segment, bundleVersion);
  const slice = cohortOf(release.bucketSalt, deviceId, release.exposure[segment] ?? 0);
  if (slice === 'none') return { ...NONE, releaseId: release.releaseId, windowMs: release.windowMs };
  const expected = slice === 'canary' ? targetFor(release, segment).version : (release.fallback?.version ?? BUILTIN_VERSION);
  const onCohortBundle = bundleVersion === expected;
  return { releaseId: release.releaseId, slice, onCohortBundle, cohort: onCohortBundle ? slice : 'none', windowMs: release.windowMs, arm: null };
}
