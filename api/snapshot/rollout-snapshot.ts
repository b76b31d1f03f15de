import { createChangeListener, type SnapshotChange } from '../../db/change-feed';
import type { AppDefinitions, AppRevisions, AppServingSource, ServingReadModel } from '../../db/read-models/serving-read-model';
import { isTerminal } from '../../domain/release';
import { versionsWithdrawnBy, type ChannelServing, type ServingRelease } from '../../domain/serving';
import type { Logger } from '../../platform/logger';
import type { ApiMetrics } from '../api-metrics';

import { buildAppServing, channelServing, createOverrideTable, isNewerRelease, type AppServing, type OverrideTable } from './app-serving';

export type { AppServing };

export interface RolloutSnapshot {
  /** Loads every app, then follows NOTIFY; resolves once the first full load is in memory. */
  start(): Promise<void>;
  stop(): Promise<void>;
  isLoaded(): boolean;
  app(appId: string): AppServing | undefined;
  /** The newest published state of a release this instance holds (in flight, a channel's newest, or ended lately). */
  release(releaseId: string): ServingRelease | undefined;
  /** The newest revision of a release this instance holds, 0 if none. */
  revisionOf(releaseId: string): number;
  /** The newest published state of every release this instance holds, any status. */
  servedReleases(): Iterable<ServingRelease>;
  waitForRevision(releaseId: string, revision: number, timeoutMs?: number): Promise<void>;
  /** Reloads everything of one app now. */
  refreshApp(appId: string): Promise<void>;
  /** The app a CodePush deployment key names, with the channel it stands for. */
  byDeploymentKey(key: string): { app: AppServing; channel: string } | undefined;
  /** Calls back with each newer revision of any release as it lands; returns the unsubscribe. */
  onReleaseChanged(listener: (release: ServingRelease) => void): () => void;
  /**
   * Calls back when an API key was revoked anywhere, and after the listener reconnected (a revocation
   * may have been missed); returns the unsubscribe.
   */
  onApiKeysChanged(listener: () => void): () => void;
}

export interface RolloutSnapshotDeps {
  databaseUrl: string;
  readModel: ServingReadModel;
  logger: Logger;
  metrics: ApiMetrics;
  /** Reconcile period: the safety net for notifications lost while the listener reconnects. */
  reconcileMs: number;
  /** How long a release that ended stays held after its last state, unless it is its channel's newest. */
  endedRetentionMs?: number;
}

/**
 * An ended release stays in memory this long, for the pages and waits that follow its end; after
 * that only what devices are answered from stays: its channel's newest release and the versions
 * withdrawn releases shipped.
 */
const ENDED_RELEASE_RETENTION_MS = 60 * 60_000;
/**
 * The reconcile rereads states published this long before its previous pass too: a publish takes its
 * time (`now()`) when its statement starts and commits a moment later.
 */
const PUBLISH_COMMIT_MARGIN_MS = 60_000;

interface Waiter {
  releaseId: string;
  revision: number;
  resolve: () => void;
}

/** Work queued for one app; each kind rereads only what it names. */
interface Pending {
  full: boolean;
  definitions: boolean;
  overrides: boolean;
  devices: Set<string>;
  releases: Set<string>;
}

interface AppState {
  definitions: AppDefinitions;
  /**
   * The revisions this instance has applied, or queued rereads for; `seen` is what the previous
   * reconcile read from PostgreSQL.
   */
  applied: { definitions: number; overrides: number };
  seen: AppRevisions | null;
  serving: Map<string, ChannelServing>;
  /** Per channel: every version its withdrawn releases shipped; only grows. */
  withdrawn: Map<string, Set<string>>;
  overrides: OverrideTable;
  view: AppServing;
}

const emptyPending = (): Pending => ({ full: false, definitions: false, overrides: false, devices: new Set(), releases: new Set() });

/**
 * The in-memory projection of `rollout_state` that answers device checks without a database round
 * trip. It holds what is live: each app's definitions and overrides, each channel's newest release,
 * the versions withdrawn releases shipped, and the releases in flight or ended lately. A NOTIFY says
 * what changed and only that is reread; work for one app runs in order, so an older read never
 * replaces a newer one. The periodic reconcile compares revisions and rereads only what differs.
 */
export function createRolloutSnapshot(deps: RolloutSnapshotDeps): RolloutSnapshot {
  const endedRetentionMs = deps.endedRetentionMs ?? ENDED_RELEASE_RETENTION_MS;
  const apps = new Map<string, AppState>();
  const releases = new Map<string, ServingRelease>();
  const deploymentKeys = new Map<string, { appId: string; channel: string }>();
  const pending = new Map<string, Pending>();
  const running = new Map<string, Promise<void>>();
  let waiters: Waiter[] = [];
  const changeListeners = new Set<(release: ServingRelease) => void>();
  const apiKeyListeners = new Set<() => void>();
  const apiKeysChanged = () => {
    for (const listener of apiKeyListeners) listener();
  };
  let loaded = false;
  let stopped = false;
  let reconcileTimer: NodeJS.Timeout | null = null;
  let reconciling: Promise<void> | null = null;
  /** The reconcile's windows, on the database's clock. */
  let publishedCursor: Date | null = null;
  let lapseCursor: Date | null = null;

  const revisionOf = (releaseId: string) => releases.get(releaseId)?.revision ?? 0;

  const settleWaiters = () => {
    if (waiters.length === 0) return;
    const ready = waiters.filter((w) => revisionOf(w.releaseId) >= w.revision);
    waiters = waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  };

  const withdrawnOf = (state: AppState, channel: string) => {
    let versions = state.withdrawn.get(channel);
    if (!versions) state.withdrawn.set(channel, (versions = new Set()));
    return versions;
  };

  const hold = (release: ServingRelease): boolean => {
    if (revisionOf(release.releaseId) >= release.revision) return false;
    releases.set(release.releaseId, release);
    if (loaded) deps.metrics.snapshotApplyLag.observe(Math.max(0, Date.now() - release.publishedAt) / 1000);
    for (const listener of changeListeners) listener(release);
    return true;
  };

  const applyRelease = (state: AppState, release: ServingRelease) => {
    if (!hold(release)) return;
    const withdrawn = withdrawnOf(state, release.channel);
    for (const version of versionsWithdrawnBy(release)) withdrawn.add(version);
    const current = state.serving.get(release.channel)?.current;
    const next = !current || current.releaseId === release.releaseId || isNewerRelease(release, current) ? release : current;
    state.serving.set(release.channel, channelServing(next, withdrawn));
  };

  const publishView = (appId: string, state: AppState) => {
    const previous = apps.get(appId);
    if (previous) for (const key of previous.view.deploymentKeys.keys()) deploymentKeys.delete(key);
    state.view = buildAppServing(state.definitions, state.serving, state.overrides);
    apps.set(appId, state);
    for (const [key, channel] of state.view.deploymentKeys) deploymentKeys.set(key, { appId, channel });
  };

  const install = (source: AppServingSource) => {
    const withdrawn = new Map(source.withdrawn.map((w) => [w.channel, new Set(w.versions)]));
    const overrides = createOverrideTable(source.overrides);
    const serving = new Map<string, ChannelServing>();
    // Only the definitions of the source are kept: its rows (overrides above all) are garbage now.
    const definitions: AppDefinitions = { appId: source.appId, channels: source.channels, segments: source.segments, signingKey: source.signingKey };
    const state: AppState = {
      definitions,
      applied: { definitions: source.revisions.definitions, overrides: source.revisions.overrides },
      seen: apps.get(source.appId)?.seen ?? null,
      serving,
      withdrawn,
      overrides,
      view: buildAppServing(definitions, serving, overrides),
    };
    for (const read of source.releases) {
      hold(read);
      // A notification applied while this load was reading may be newer than what it read.
      const release = releases.get(read.releaseId)!;
      for (const version of versionsWithdrawnBy(release)) withdrawnOf(state, release.channel).add(version);
      const current = serving.get(release.channel)?.current;
      if (!current || isNewerRelease(release, current)) serving.set(release.channel, channelServing(release, withdrawnOf(state, release.channel)));
    }
    publishView(source.appId, state);
  };

  const remove = (appId: string) => {
    const state = apps.get(appId);
    if (!state) return;
    for (const key of state.view.deploymentKeys.keys()) deploymentKeys.delete(key);
    apps.delete(appId);
  };

  const loadFull = async (appId: string) => {
    const [source] = await deps.readModel.load(appId, endedRetentionMs);
    if (source) install(source);
    else remove(appId);
    deps.metrics.snapshotReloads.inc({ scope: 'app' });
  };

  const readFor = (appId: string, todo: Pending) =>
    Promise.all([
      todo.definitions ? deps.readModel.definitions(appId) : undefined,
      todo.overrides ? deps.readModel.overrides(appId) : undefined,
      !todo.overrides && todo.devices.size > 0 ? deps.readModel.overridesOf(appId, [...todo.devices]) : undefined,
      todo.releases.size > 0 ? deps.readModel.releases([...todo.releases]) : [],
    ]);

  const work = async (appId: string, todo: Pending) => {
    const state = apps.get(appId);
    if (todo.full || !state) return loadFull(appId);
    const [definitions, overrides, devices, changed] = await readFor(appId, todo);
    if (definitions === null) return remove(appId);
    if (overrides) {
      state.overrides = createOverrideTable(overrides.overrides);
      state.applied.overrides = Math.max(state.applied.overrides, overrides.revision);
      deps.metrics.snapshotReloads.inc({ scope: 'overrides' });
    } else if (devices) {
      const found = new Map(devices.map((d) => [d.deviceId, d]));
      for (const deviceId of todo.devices) state.overrides.put(deviceId, found.get(deviceId) ?? null);
    }
    for (const release of changed) applyRelease(state, release);
    if (definitions) {
      state.definitions = definitions.definitions;
      state.applied.definitions = Math.max(state.applied.definitions, definitions.revision);
      deps.metrics.snapshotReloads.inc({ scope: 'definitions' });
    }
    if (definitions || overrides) publishView(appId, state);
  };

  /** Queues work for an app; the promise settles once the app's queue has run dry. */
  const enqueue = (appId: string, mark: (todo: Pending) => void): Promise<void> => {
    const todo = pending.get(appId) ?? emptyPending();
    mark(todo);
    pending.set(appId, todo);
    const current = running.get(appId);
    if (current) return current;
    const run = (async () => {
      try {
        for (let next = pending.get(appId); next && !stopped; next = pending.get(appId)) {
          pending.delete(appId);
          try {
            await work(appId, next);
          } catch (err) {
            // What a notification named is lost with the failed read: the next reconcile rereads it.
            const state = apps.get(appId);
            if (state) state.applied = { definitions: -1, overrides: -1 };
            throw err;
          }
          settleWaiters();
        }
      } finally {
        running.delete(appId);
        deps.metrics.snapshotApps.set(apps.size);
      }
    })();
    running.set(appId, run);
    return run;
  };

  const onChange = (change: SnapshotChange) => {
    const { appId } = change;
    const state = apps.get(appId);
    const queued = enqueue(appId, (todo) => {
      switch (change.kind) {
        case 'app':
          todo.full = true;
          break;
        case 'definitions':
          todo.definitions = true;
          break;
        case 'release':
          if (revisionOf(change.releaseId) < change.revision) todo.releases.add(change.releaseId);
          break;
        case 'override':
        case 'overrides':
          // Revisions arrive in order: one skipped means a notification was lost, so all are reread.
          if (!state || change.kind === 'overrides' || change.revision > state.applied.overrides + 1) todo.overrides = true;
          else todo.devices.add(change.deviceId);
          if (state) state.applied.overrides = Math.max(state.applied.overrides, change.revision);
          break;
      }
    });
    queued.catch(reportFailure(appId, `snapshot ${change.kind} update failed`));
  };

  const loadAll = async () => {
    const sources = await deps.readModel.load(null, endedRetentionMs);
    // An app a notification loaded meanwhile has a newer read than this one.
    for (const source of sources) if (!apps.has(source.appId) && !running.has(source.appId)) install(source);
    settleWaiters();
    deps.metrics.snapshotReloads.inc({ scope: 'full' });
    deps.metrics.snapshotApps.set(apps.size);
  };

  /**
   * Compares every app's revisions with what this instance applied and rereads only what differs;
   * rereads the releases published since the last pass whose revision it lacks; drops self-assignments
   * that lapsed and releases that ended long ago. `lost`: notifications were lost (reconnect), so a
   * difference is acted on at once rather than when it outlived one period (it may still be in flight).
   */
  const reportFailure = (appId: string, what: string) => (err: unknown) => deps.logger.error({ err, appId }, what);

  /** Rereads what an app's revisions say this instance lacks; `lost`: see `reconcileOnce`. */
  const compareRevisions = (revisions: AppRevisions[], lost: boolean) => {
    const present = new Set<string>();
    for (const now of revisions) {
      present.add(now.appId);
      const state = apps.get(now.appId);
      if (!state) {
        enqueue(now.appId, (todo) => (todo.full = true)).catch(reportFailure(now.appId, 'snapshot load failed'));
        continue;
      }
      const against = lost || !state.seen ? now : state.seen;
      const definitions = state.applied.definitions < against.definitions;
      const overrides = state.applied.overrides < against.overrides;
      state.seen = now;
      if (!definitions && !overrides) continue;
      enqueue(now.appId, (todo) => {
        todo.definitions ||= definitions;
        todo.overrides ||= overrides;
      }).catch(reportFailure(now.appId, 'snapshot reconcile failed'));
    }
    for (const appId of [...apps.keys()]) if (!present.has(appId) && !running.has(appId)) remove(appId);
  };

  const evictEnded = (now: Date) => {
    const endedBefore = now.getTime() - endedRetentionMs;
    for (const release of [...releases.values()]) {
      if (!isTerminal(release.status) || release.publishedAt >= endedBefore) continue;
      const current = apps.get(release.appId)?.serving.get(release.channel)?.current;
      if (current?.releaseId !== release.releaseId) releases.delete(release.releaseId);
    }
  };

  /**
   * Compares every app's revisions with what this instance applied and rereads only what differs;
   * rereads the releases published since the last pass whose revision it lacks; drops self-assignments
   * that lapsed and releases that ended long ago. `lost`: notifications were lost (reconnect), so a
   * difference is acted on at once rather than when it outlived one period (it may still be in flight).
   */
  const reconcileOnce = async (lost: boolean) => {
    const [revisions, published, lapsed] = await Promise.all([
      deps.readModel.revisions(),
      deps.readModel.publishedSince(publishedCursor ?? new Date(0)),
      deps.readModel.lapsedSince(lapseCursor),
    ]);
    compareRevisions(revisions, lost);
    for (const p of published.published) if (revisionOf(p.releaseId) < p.revision) onChange({ kind: 'release', ...p });
    for (const l of lapsed.lapsed) {
      if (apps.has(l.appId)) enqueue(l.appId, (todo) => todo.devices.add(l.deviceId)).catch(reportFailure(l.appId, 'snapshot lapse failed'));
    }
    publishedCursor = new Date(published.now.getTime() - PUBLISH_COMMIT_MARGIN_MS);
    lapseCursor = lapsed.until;
    evictEnded(published.now);
    deps.metrics.snapshotReloads.inc({ scope: 'reconcile' });
  };

  // One pass at a time: a reconnect during a slow pass waits for it rather than racing it.
  const reconcile = (lost: boolean): Promise<void> => {
    const run = (reconciling ?? Promise.resolve()).catch(() => undefined).then(() => reconcileOnce(lost));
    reconciling = run.finally(() => {
      if (reconciling === run) reconciling = null;
    });
    return run;
  };

  const listener = createChangeListener({
    databaseUrl: deps.databaseUrl,
    logger: deps.logger,
    onChange,
    onApiKeysChanged: apiKeysChanged,
    onReconnected: () => {
      apiKeysChanged();
      return reconcile(true);
    },
    onReconnecting: () => deps.metrics.snapshotListenerReconnects.inc(),
  });

  return {
    async start() {
      await listener.start();
      const now = await deps.readModel.now();
      publishedCursor = new Date(now.getTime() - PUBLISH_COMMIT_MARGIN_MS);
      lapseCursor = (await deps.readModel.lapsedSince(null)).until;
      await loadAll();
      loaded = true;
      reconcileTimer = setInterval(() => {
        reconcile(false).catch((err: unknown) => deps.logger.error({ err }, 'snapshot reconcile failed'));
      }, deps.reconcileMs);
      reconcileTimer.unref();
    },
    async stop() {
      stopped = true;
      if (reconcileTimer) clearInterval(reconcileTimer);
      await Promise.allSettled([...running.values(), reconciling]);
      await listener.stop();
    },
    isLoaded: () => loaded,
    app: (appId) => apps.get(appId)?.view,
    release: (releaseId) => releases.get(releaseId),
    servedReleases: () => releases.values(),
    byDeploymentKey(key) {
      const found = deploymentKeys.get(key);
      const app = found && apps.get(found.appId)?.view;
      return app && found ? { app, channel: found.channel } : undefined;
    },
    revisionOf,
    refreshApp: (appId) => enqueue(appId, (todo) => (todo.full = true)),
    onReleaseChanged(listener) {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },
    onApiKeysChanged(listener) {
      apiKeyListeners.add(listener);
      return () => apiKeyListeners.delete(listener);
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
