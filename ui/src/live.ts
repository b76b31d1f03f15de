import type { ApiClient } from './api-client';

export type LiveMode = 'connecting' | 'streaming' | 'polling';

/** With the stream up, a slow refresh still moves soak progress and charts along. */
const STREAMING_REFRESH_MS = 10_000;
/** Without it (refused, proxy, API restarting), polling keeps the page current. */
const POLL_MS = 2_000;
const RECONNECT_MS = 10_000;

/** Reads `event:` names from a Server-Sent Events body, calling back per event until it ends. */
async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (name: string) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: (.+)$/m.exec(block)?.[1];
      if (name) onEvent(name);
    }
  }
}

/**
 * Follows a release: Server-Sent Events from GET /v1/releases/:id/events (fetched, so the key stays
 * a header, never a URL), polling while the stream is unavailable. Returns the stop function.
 */
export function followRelease(api: ApiClient, releaseId: string, onChange: () => void, onMode: (mode: LiveMode) => void): () => void {
  const controller = new AbortController();
  let timer: ReturnType<typeof setInterval> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const refreshEvery = (ms: number) => {
    clearInterval(timer);
    timer = setInterval(onChange, ms);
  };

  const connect = async () => {
    onMode('connecting');
    try {
      const res = await api.stream(`/v1/releases/${encodeURIComponent(releaseId)}/events`, controller.signal);
      if (!res.body) throw new Error('no stream');
      onMode('streaming');
      refreshEvery(STREAMING_REFRESH_MS);
      await readEvents(res.body, onChange);
    } catch {
      // Refused, unreachable or cut: fall through to polling.
    }
    if (controller.signal.aborted) return;
    onMode('polling');
    refreshEvery(POLL_MS);
    retry = setTimeout(() => void connect(), RECONNECT_MS);
  };

  void connect();
  return () => {
    controller.abort();
    clearInterval(timer);
    clearTimeout(retry);
  };
}
