import { isTerminal } from '../domain/release';
import type { Output } from './command-context';
import type { InsightsAnswer } from './insights-answer';
import type { RampartClient } from './rampart-client';
import type { ReleaseAnswer } from './release-answer';
import { createWatchRenderer, type WatchMode } from './watch-renderer';

/** Often enough for the countdowns of a terminal frame to tick; a pipe only gets lines on change. */
const POLL_MS = 1000;

/** Follows a release until it ends, drawing every state the API answers with. */
export async function watchRelease(client: RampartClient, releaseId: string, out: Output, json: boolean): Promise<void> {
  const mode: WatchMode = json ? 'json' : out.tty ? 'tty' : 'lines';
  const render = createWatchRenderer(mode, out.columns);
  for (;;) {
    const path = `/v1/releases/${encodeURIComponent(releaseId)}`;
    // Adoption per segment, from 5-minute buckets so it moves while you watch; the release's own
    // state is what the watch is for, so insights that cannot be read leave the adoption lines out.
    const [release, insights] = await Promise.all([
      client.get<ReleaseAnswer>(path),
      mode === 'json' ? null : client.get<InsightsAnswer>(`${path}/insights?step=5m`).catch(() => null),
    ]);
    out.write(render(release, Date.now(), insights));
    if (isTerminal(release.status)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
