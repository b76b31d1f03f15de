import pg from 'pg';
import type { Logger } from '../platform/logger';
import type { Queryable } from './create-pool';

/** The NOTIFY channel API instances listen on; the payload is the id of the app that changed. */
export const APP_CHANGED_CHANNEL = 'rollout_state';

export interface ChangeFeed {
  /** Tells every API instance to reload what it serves for the app (sent on commit when in a transaction). */
  appChanged(appId: string): Promise<void>;
}

export function createChangeFeed(db: Queryable): ChangeFeed {
  return {
    async appChanged(appId) {
      await db.query('SELECT pg_notify($1, $2)', [APP_CHANGED_CHANNEL, appId]);
    },
  };
}

export interface ChangeListenerOptions {
  databaseUrl: string;
  logger: Logger;
  onAppChanged(appId: string): void;
  /**
   * Runs once a lost connection is back. Notifications sent meanwhile are gone for good, so the
   * caller catches up here (a full reload); a failure counts as a failed reconnect.
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

/** A dedicated connection that LISTENs for app changes and reconnects by itself when it is lost. */
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
      if (msg.channel === APP_CHANGED_CHANNEL && msg.payload) options.onAppChanged(msg.payload);
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
