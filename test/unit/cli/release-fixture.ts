import type { ReleaseAnswer } from '../../../cli/release-answer';
import { DEFAULT_GATE_SETTINGS } from '../../../domain/gates/gate-spec';
import type { Transition } from '../../../domain/rollout-view';

export const T0 = Date.parse('2025-06-02T10:00:00.000Z');

export function transition(at: number, event: Transition['event'], actor: string, reason: string, to: Transition['to'] = 'running'): Transition {
  return { seq: 1, at, event, from: 'running', to, stageIndex: 0, exposure: { default: 100 }, actor, reason };
}

/** A release one stage into a two-stage plan: 4 min minimum soak, 16 min maximum, checked every 30 s. */
export function release(overrides: Partial<ReleaseAnswer> = {}): ReleaseAnswer {
  return {
    id: 'rel-1',
    appId: 'com.example.app',
    channel: 'production',
    version: '1.2.0',
    baselineVersion: null,
    status: 'running',
    stageIndex: 0,
    stageName: 'canary',
    phase: 'baking',
    waitingSegments: [],
    exposure: { default: 100 },
    soakedMs: 130_000,
    reason: null,
    plan: {
      stages: [
        { name: 'canary', segments: ['default'], exposureBps: 100, minSoakMs: 240_000, maxSoakMs: 960_000, checkIntervalMs: 30_000 },
        { name: 'all', segments: ['default'], exposureBps: 10_000, minSoakMs: 240_000, maxSoakMs: 960_000, checkIntervalMs: 30_000 },
      ],
      gateSettings: DEFAULT_GATE_SETTINGS,
    },
    gates: {
      at: T0,
      stageIndex: 0,
      verdict: 'continue',
      evidence: { windowStart: null, windowEnd: null, ratio: [], tripwire: [], findings: [{ gate: 'soak', verdict: 'continue', dryRun: false, message: 'keep baking' }] },
    },
    history: [transition(T0 - 130_000, 'stage_started', 'rampart', 'stage canary: default at 100 bps')],
    live: true,
    ...overrides,
  };
}
