import { createChangeListener } from '../../db/change-feed';
import type { AppServingSource, ServingReadModel } from '../../db/read-models/serving-read-model';
import type { ServingRelease } from '../../domain/serving';
import type { Logger } from '../../platform/logger';
import type { ApiMetrics } from '../api-metrics';

import { buildAppServing, type AppServing } from './app-serving';

export type { AppServing };

export interface RolloutSnapshot {
  /** Loads every app, then follows NOTIFY; resolves once the first full load is in memory. */
  start(): Promise<void>;
  stop(): Promise<void>;
  isLoaded(): boolean;
  app(appId: string): AppServing | undefined;
  /** The newest published state of a release this instance serves from. */
  release(releaseId: string): ServingRelease | undefined;
  /** The newest revision of a release this instance serves from, 0 if none. */
  revisionOf(releaseId: string): number;
  /** The newest published state of every release this instance has served from, any status. */
  servedReleases(): Iterable<ServingRelease>;
  waitForRevision(releaseId: string, revision: number, timeoutMs?: number): Promise<void>;
  /** Reloads one app now (also what a NOTIFY triggers). */
  refreshApp(appId: string): Promise<void>;
  /** The app a CodePush deployment key names, with the channel it stands for. */
  byDeploymentKey(key: string): { app: AppServing; channel: string } | undefined;
  /** Calls back with each newer revision of any release as it lands; returns the unsubscribe. */
  onReleaseChanged(listener: (release: ServingRelease) => void): () => void;
}

export interface RolloutSnapshotDeps {
  databaseUrl: string;
  readModel: ServingReadModel;
  logger: Logger;
  metrics: ApiMetrics;
  /** Full reload period: the safety net for notifications lost while the listener reconnects. */
  reconcileMs: number;
}

interface Waiter {
  releaseId: string;
  revision: number;
  resolve: () => void;
}

/**
 * The in-memory projection of `rollout_state` that answers device checks without a database round
 * trip. Each app reloads on its NOTIFY; loads are sequenced so an older read never replaces a newer one.
 */
export function createRolloutSnapshot(deps: RolloutSnapshotDeps): RolloutSnapshot {
  const apps = new Map<string, AppServing>();
  const releases = new Map<string, ServingRelease>();
  const deploymentKeys = new Map<string, { appId: string; channel: string }>();
  const appliedSeq = new Map<string, number>();
  const inFlight = new Map<string, Promise<void>>();
  const dirty = new Set<string>();
  let waiters: Waiter[] = [];
  const changeListeners = new Set<(release: ServingRelease) => void>();
  let seq = 0;
  let loaded = false;
  let stopped = false;
  let reconcileTimer: NodeJS.Timeout | null = null;

  const apply = (source: AppServingSource, loadSeq: number) => {
    if ((appliedSeq.get(source.appId) ?? 0) > loadSeq) return;
    appliedSeq.set(source.appId, loadSeq);
    const previous = apps.get(source.appId);
    if (previous) for (const key of previous.deploymentKeys.keys()) deploymentKeys.delete(key);
    const app = buildAppServing(source);
    apps.set(source.appId, app);
    for (const [key, channel] of app.deploymentKeys) deploymentKeys.set(key, { appId: source.appId, channel });
    const now = Date.now();
    for (const release of source.releases) {
      const previous = releases.get(release.releaseId)?.revision ?? 0;
      if (release.revision > previous) {
        releases.set(release.releaseId, release);
        if (loaded) deps.metrics.snapshotApplyLag.observe(Math.max(0, now - release.publishedAt) / 1000);
        for (const listener of changeListeners) listener(release);
      }
    }
    if (waiters.length > 0) {
      const ready = waiters.filter((w) => revisionOf(w.releaseId) >= w.revision);
      waiters = waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve();
    }
  };

  const loadAll = async () => {
    const loadSeq = ++seq;
    const sources = await deps.readModel.loadAll();
    const present = new Set(sources.map((s) => s.appId));
    for (const source of sources) apply(source, loadSeq);
    for (const appId of [...apps.keys()]) {
      if (!present.has(appId) && (appliedSeq.get(appId) ?? 0) < loadSeq) apps.delete(appId);
    }
    deps.metrics.snapshotReloads.inc({ scope: 'full' });
    deps.metrics.snapshotApps.set(apps.size);
  };

  const loadApp = async (appId: string): Promise<void> => {
    const loadSeq = ++seq;
    const source = await deps.readModel.loadApp(appId);
    if (source) {
      apply(source, loadSeq);
    } else if ((appliedSeq.get(appId) ?? 0) < loadSeq) {
      apps.delete(appId);
    }
    deps.metrics.snapshotReloads.inc({ scope: 'app' });
    deps.metrics.snapshotApps.set(apps.size);
  };

  // One load per app at a time; notifications arriving meanwhile collapse into one more load.
  const refreshApp = (appId: string): Promise<void> => {
    const running = inFlight.get(appId);
    if (running) {
      dirty.add(appId);
      return running;
    }
    const run = (async () => {
      try {
        do {
          dirty.delete(appId);
          await loadApp(appId);
        } while (dirty.has(appId) && !stopped);
      } finally {
        inFlight.delete(appId);
      }
    })();
    inFlight.set(appId, run);
    return run;
  };

  const listener = createChangeListener({
    databaseUrl: deps.databaseUrl,
    logger: deps.logger,
    onAppChanged: (appId) => {
      refreshApp(appId).catch((err: unknown) => deps.logger.error({ err, appId }, 'snapshot reload failed'));
    },
    onReconnected: loadAll,
    onReconnecting: () => deps.metrics.snapshotListenerReconnects.inc(),
  });

  const revisionOf = (releaseId: string) => releases.get(releaseId)?.revision ?? 0;

  return {
    async start() {
      await listener.start();
      await loadAll();
      loaded = true;
      reconcileTimer = setInterval(() => {
        loadAll().catch((err: unknown) => deps.logger.error({ err }, 'snapshot reconcile failed'));
      }, deps.reconcileMs);
      reconcileTimer.unref();
    },
    async stop() {
      stopped = true;
      if (reconcileTimer) clearInterval(reconcileTimer);
      await Promise.allSettled(inFlight.values());
      await listener.stop();
    },
    isLoaded: () => loaded,
    app: (appId) => apps.get(appId),
    release: (releaseId) => releases.get(releaseId),
    servedReleases: () => releases.values(),
    byDeploymentKey(key) {
      const found = deploymentKeys.get(key);
      const app = found && apps.get(found.appId);
      return app && found ? { app, channel: found.channel } : undefined;
    },
    revisionOf,
    refreshApp,
    onReleaseChanged(listener) {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },
    waitForRevision(releaseId, revision, timeoutMs = 30_000) {
      if (revisionOf(releaseId) >= revision) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          releaseId,
          revision,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(new Error(`release ${releaseId} did not reach revision ${revision} within ${timeoutMs} ms (at ${revisionOf(releaseId)})`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
  };
}
