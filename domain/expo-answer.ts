import type { Decision } from './serving';

/** DESIGN §7 step 4 in Expo Updates terms: which part the answer carries. */
export type ExpoAnswer =
  | { kind: 'manifest'; version: string; reissued: boolean }
  | { kind: 'noUpdateAvailable' }
  | { kind: 'rollBackToEmbedded' };

/**
 * A rollback to a bundle re-issues that bundle's manifest under a newer creation time (expo-updates
 * launches the most recently created update it holds); a rollback with nothing earlier to return to
 * sends the device to the update embedded in its binary.
 */
export function expoAnswerFor(decision: Decision): ExpoAnswer {
  switch (decision.action) {
    case 'update':
      return { kind: 'manifest', version: decision.bundle.version, reissued: false };
    case 'rollback':
      return decision.bundle ? { kind: 'manifest', version: decision.bundle.version, reissued: true } : { kind: 'rollBackToEmbedded' };
    case 'none':
      return { kind: 'noUpdateAvailable' };
  }
}
