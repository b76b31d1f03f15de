import { formatAdoptionLines } from './format-insights';
import { formatExposure, formatReleaseSummary, formatSoak, formatStage } from './format-release';
import { gateStaleness } from './gate-staleness';
import type { InsightsAnswer } from './insights-answer';
import type { ReleaseAnswer } from './release-answer';
import { stageProgress } from './stage-progress';

/**
 * `tty`: one frame redrawn in place. `lines`: one timestamped line per change, for logs and pipes.
 * `json`: the API's answer, one line per change.
 */
export type WatchMode = 'tty' | 'lines' | 'json';

/**
 * Turns a release state, seen at `now`, into what to write to stdout ('' when there is nothing new).
 * `insights`, when given, adds adoption per segment (not to `json`, which is the release's answer as is).
 */
export type WatchRenderer = (release: ReleaseAnswer, now: number, insights?: InsightsAnswer | null) => string;

const ESC = '\u001b[';
const iso = (ms: number) => new Date(ms).toISOString();

function lastTransition(release: ReleaseAnswer): string | null {
  const t = release.history.at(-1);
  return t ? `last ${t.event} by ${t.actor} at ${iso(t.at)}: ${t.reason}` : null;
}

const adoptionLines = (insights: InsightsAnswer | null | undefined) => (insights ? formatAdoptionLines(insights) : []);

function frame(release: ReleaseAnswer, now: number, insights: InsightsAnswer | null | undefined): string[] {
  const last = lastTransition(release);
  const footer = release.status === 'running' || release.status === 'paused' ? 'Ctrl-C stops watching; the release goes on' : 'the release has ended';
  return [...formatReleaseSummary(release, now), ...adoptionLines(insights), ...(last ? [last] : []), `updated ${iso(now)}  ${footer}`];
}

/** Everything that changes only when the release does (no countdowns), so a pipe gets a line per change. */
function stateLine(release: ReleaseAnswer, insights: InsightsAnswer | null | undefined): string {
  const progress = stageProgress(release);
  const gates = release.gates;
  const last = lastTransition(release);
  const parts = [
    `${release.status} ${formatStage(release)}`,
    `exposure ${formatExposure(release)}`,
    ...(progress ? [`soaked ${formatSoak(progress)}`] : []),
    ...adoptionLines(insights),
    ...(gates ? [`gates ${gates.verdict} at ${iso(gates.at)}${gateStaleness(release) ? ' (stale)' : ''}`] : []),
    ...(last ? [last] : []),
  ];
  return parts.join(' | ');
}

export function createWatchRenderer(mode: WatchMode, columns?: number): WatchRenderer {
  // Wrapped lines would break the cursor arithmetic of a redraw, so a frame never exceeds the width.
  const fit = (line: string) => (columns && line.length >= columns ? `${line.slice(0, columns - 2)}…` : line);
  let previous: string | null = null;
  let drawnLines = 0;
  switch (mode) {
    case 'tty':
      return (release, now, insights) => {
        const lines = frame(release, now, insights).map(fit);
        const erase = drawnLines > 0 ? `${ESC}${drawnLines}A\r${ESC}J` : '';
        drawnLines = lines.length;
        return `${erase}${lines.join('\n')}\n`;
      };
    case 'lines':
      return (release, now, insights) => {
        const line = stateLine(release, insights);
        if (line === previous) return '';
        previous = line;
        return `${iso(now)}  ${line}\n`;
      };
    case 'json':
      return (release) => {
        const json = JSON.stringify(release);
        if (json === previous) return '';
        previous = json;
        return `${json}\n`;
      };
  }
}
