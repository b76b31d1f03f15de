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
