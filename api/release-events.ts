import type { Response } from 'express';
import type { ServingRelease } from '../domain/serving';
import { UnavailableError } from '../domain/errors/unavailable-error';
import type { ReleaseEventsConfig } from '../platform/config';
import type { ApiMetrics } from './api-metrics';
import type { RolloutSnapshot } from './snapshot/rollout-snapshot';

/** What a live release page hears: enough to know it is stale; it reads the details itself. */
export interface ReleaseChange {
  releaseId: string;
  revision: number;
  status: ServingRelease['status'];
  stageIndex: number;
  exposure: ServingRelease['exposure'];
}

export interface ReleaseEvents {
  /** Turns the response into an event stream of the release's changes until the client leaves. */
  open(res: Response, releaseId: string): void;
  /** Ends every stream, so a server can close without waiting for pages to go away. */
  closeAll(): void;
}

export interface ReleaseEventsDeps extends ReleaseEventsConfig {
  snapshot: Pick<RolloutSnapshot, 'onReleaseChanged' | 'release'>;
  metrics: ApiMetrics;
}

const changeOf = (r: ServingRelease): ReleaseChange => ({ releaseId: r.releaseId, revision: r.revision, status: r.status, stageIndex: r.stageIndex, exposure: r.exposure });

/**
 * Server-Sent Events for release pages, fed by the snapshot (and so by the same NOTIFY that keeps
 * device answers fresh). Streams are bounded per instance: past the bound a page polls instead.
 */
export function createReleaseEvents(deps: ReleaseEventsDeps): ReleaseEvents {
  const streams = new Map<string, Set<Response>>();
  let open = 0;

  const send = (res: Response, event: string, data: unknown) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    deps.metrics.releaseEventsSent.inc({ event });
  };

  deps.snapshot.onReleaseChanged((release) => {
    const listeners = streams.get(release.releaseId);
    if (!listeners) return;
    for (const res of listeners) send(res, 'change', changeOf(release));
  });

  const heartbeat = setInterval(() => {
    for (const listeners of streams.values()) for (const res of listeners) res.write(': keep-alive\n\n');
  }, deps.heartbeatMs);
  heartbeat.unref();

  const remove = (releaseId: string, res: Response) => {
    const listeners = streams.get(releaseId);
    if (!listeners?.delete(res)) return;
    if (listeners.size === 0) streams.delete(releaseId);
    open--;
    deps.metrics.releaseEventClients.set(open);
  };

  return {
    open(res, releaseId) {
      // The page may have left while its access was checked: its 'close' is gone, so never count it.
      if (res.socket?.destroyed ?? true) return;
      if (open >= deps.maxClients) {
        deps.metrics.releaseEventsRefused.inc();
        throw new UnavailableError(`this API instance already streams ${deps.maxClients} live pages; poll GET /v1/releases/${releaseId} instead`);
      }
      res.status(200).set({ 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
      res.flushHeaders();
      const listeners = streams.get(releaseId) ?? new Set<Response>();
      streams.set(releaseId, listeners.add(res));
      open++;
      deps.metrics.releaseEventClients.set(open);
      // Opens with the state this instance serves, so a page that reconnects knows what it missed.
      const current = deps.snapshot.release(releaseId);
      send(res, 'hello', current ? changeOf(current) : { releaseId });
      res.on('close', () => remove(releaseId, res));
    },
    closeAll() {
      for (const listeners of [...streams.values()]) for (const res of [...listeners]) res.end();
    },
  };
}
