import type { GateState } from './gate-types';

/** The state of a release before its first window: no evidence, no streaks. */
export function initialGateState(): GateState {
  return { ratio: {}, tripwire: {}, crashRate: {}, thresholdFailures: {}, windowsSeen: 0, emptyWindowsInARow: 0, readErrorsInARow: 0 };
}
