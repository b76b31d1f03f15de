import { isTerminal } from '../domain/release';
import type { Output } from './command-context';
import type { InsightsAnswer } from './insights-answer';
import type { RampartClient } from './rampart-client';
import type { ReleaseAnswer } from './release-answer';
import { createWatchRenderer, type WatchMode } from './watch-renderer';

/** Often enough for the countdowns of a terminal frame to tick; a pipe only gets lines on change. */
const POLL_MS = 1000;
/** Adoption comes from 5-minute buckets and costs the API real queries: a few seconds apart is plenty. */
const INSIGHTS_EVERY_MS = 5000;

/** Follows a release until it ends, drawing every state the API answers with. */
export async function watchRelease(client: RampartClient, releaseId: string, out: Output, json: boolean): Promise<void> {
  const mode: WatchMode = json ? 'json' : out.tty ? 'tty' : 'lines';
  const render = createWatchRenderer(mode, out.columns);
  const path = `/v1/releases/${encodeURIComponent(releaseId)}`;
  let insights: InsightsAnswer | null = null;
  let insightsAt = -Infinity;
  for (;;) {
    // Adoption per segment, from 5-minute buckets so it moves while you watch; the release's own
    // state is what the watch is for, so insights that cannot be read leave the adoption lines out.
    const due = mode !== 'json' && Date.now() - insightsAt >= INSIGHTS_EVERY_MS;
    const [release, fresh]: [ReleaseAnswer, InsightsAnswer | null] = await Promise.all([
      client.get<ReleaseAnswer>(path),
      due ? client.get<InsightsAnswer>(`${path}/insights?step=5m`).catch(() => null) : Promise.resolve(insights),
    ]);
    if (due) insightsAt = Date.now();
    insights = fresh;
    out.write(render(release, Date.now(), insights));
    if (isTerminal(release.status)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
