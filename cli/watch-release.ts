import { isTerminal } from '../domain/release';
import type { Output } from './command-context';
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
    const release = await client.get<ReleaseAnswer>(`/v1/releases/${encodeURIComponent(releaseId)}`);
    out.write(render(release, Date.now()));
    if (isTerminal(release.status)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
