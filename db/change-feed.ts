import pg from 'pg';
import type { Logger } from '../platform/logger';
import type { Queryable } from './create-pool';

/**
 * The NOTIFY channel API instances listen on. Payloads are JSON saying what changed (`SnapshotChange`);
 * migration 0016's triggers send the definition and override changes on it too.
 */
export const APP_CHANGED_CHANNEL = 'rollout_state';

/** What an API instance rereads for a notification: each is a few rows, except `app` (everything of the app). */
export type SnapshotChange =
  | { kind: 'app'; appId: string }
  | { kind: 'definitions'; appId: string }
  | { kind: 'release'; appId: string; releaseId: string; revision: number }
  /** `revision`: the app's overrides revision this change made (migration 0016's trigger). */
  | { kind: 'override'; appId: string; deviceId: string; revision: number }
  | { kind: 'overrides'; appId: string; revision: number };

/** The payload of a release's published revision, for statements that write `rollout_state` (alias: its row). */
export const releaseChangePayloadSql = (alias: string) =>
  `json_build_object('kind', 'release', 'appId', ${alias}.app_id, 'releaseId', ${alias}.release_id, 'revision', ${alias}.revision)::text`;

/**
 * Sent on the same channel when an API key is revoked: instances forget the keys they cached, so a
 * revocation through one instance holds on every other at once. Not a SnapshotChange (no app), so
 * parseChange ignores it.
 */
export const API_KEYS_CHANGED_PAYLOAD = JSON.stringify({ kind: 'api_keys' });

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** A payload that is not ours (an older instance sends a bare app id) means: everything of that app. */
export function parseChange(payload: string): SnapshotChange | null {
  if (!payload.startsWith('{')) return payload ? { kind: 'app', appId: payload } : null;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return null;
  }
  const { kind, appId, releaseId, revision, deviceId } = parsed;
  if (!isText(appId)) return null;
  if (kind === 'release' && isText(releaseId) && typeof revision === 'number') return { kind, appId, releaseId, revision };
  if (kind === 'override' && isText(deviceId) && typeof revision === 'number') return { kind, appId, deviceId, revision };
  if (kind === 'overrides' && typeof revision === 'number') return { kind, appId, revision };
  if (kind === 'definitions') return { kind, appId };
  return { kind: 'app', appId };
}

export interface ChangeFeed {
  /**
   * Tells every API instance to reread the app's definitions (sent on commit when in a transaction).
   * Migration 0016's triggers send the same payload for channel, segment and key writes, so inside
   * one transaction PostgreSQL delivers it once.
   */
  appChanged(appId: string): Promise<void>;
}

export function createChangeFeed(db: Queryable): ChangeFeed {
  return {
    async appChanged(appId) {
      await db.query(`SELECT pg_notify($1, json_build_object('kind', 'definitions', 'appId', $2::text)::text)`, [APP_CHANGED_CHANNEL, appId]);
    },
  };
}

export interface ChangeListenerOptions {
  databaseUrl: string;
  logger: Logger;
  onChange(change: SnapshotChange): void;
  /** An API key was revoked somewhere (API_KEYS_CHANGED_PAYLOAD). */
  onApiKeysChanged(): void;
  /**
   * Runs once a lost connection is back. Notifications sent meanwhile are gone for good, so the
   * caller catches up here; a failure counts as a failed reconnect.
   */
  onReconnected(): Promise<void>;
  /** Each reconnect attempt, for metrics. */
  onReconnecting?(): void;
  reconnectDelayMs?: number;
}

export interface ChangeListener {
  /** Resolves once LISTEN is in place. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A connect to a server that accepts and never answers would otherwise hang for ever, and with it
 * every later reconnect: the instance would hear no NOTIFY again.
 */
const LISTENER_CONNECT_TIMEOUT_MS = 10_000;

/** A dedicated connection that LISTENs for snapshot changes and reconnects by itself when it is lost. */
export function createChangeListener(options: ChangeListenerOptions): ChangeListener {
  const { logger } = options;
  let client: pg.Client | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let stopped = false;

  const scheduleReconnect = () => {
    if (stopped || reconnectTimer) return;
    options.onReconnecting?.();
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      listen()
        .then(() => options.onReconnected())
        .catch((err: unknown) => {
          logger.error({ err }, 'change listener reconnect failed');
          scheduleReconnect();
        });
    }, options.reconnectDelayMs ?? 1000);
  };

  const listen = async () => {
    const next = new pg.Client({
      connectionString: options.databaseUrl,
      application_name: 'rampart-change-listener',
      connectionTimeoutMillis: LISTENER_CONNECT_TIMEOUT_MS,
      keepAlive: true,
    });
    next.on('notification', (msg) => {
      if (msg.channel === APP_CHANGED_CHANNEL && msg.payload === API_KEYS_CHANGED_PAYLOAD) return options.onApiKeysChanged();
      const change = msg.channel === APP_CHANGED_CHANNEL && msg.payload ? parseChange(msg.payload) : null;
      if (change) options.onChange(change);
    });
    next.on('error', (err) => {
      logger.warn({ err }, 'change listener lost its connection');
      if (client === next) client = null;
      next.end().catch(() => undefined);
      scheduleReconnect();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${APP_CHANGED_CHANNEL}`);
    } catch (err) {
      await next.end().catch(() => undefined);
      throw err;
    }
    client = next;
  };

  return {
    start: listen,
    async stop() {
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
    },
  };
}
