import type { Transition } from '../domain/rollout-view';
import type { ReleaseAnswer } from './release-answer';

/**
 * The first transition recorded after the last gate report, or null when the report is still the
 * latest word. A verdict followed by a human's pause or resume, or by a new stage, no longer
 * describes the release, and on-call must not read it as current.
 */
export function gateStaleness(release: Pick<ReleaseAnswer, 'gates' | 'history'>): Transition | null {
  const report = release.gates;
  if (!report) return null;
  return release.history.find((t) => t.at > report.at) ?? null;
}
