import type { Queryable } from '../create-pool';

export interface HealthStore {
  /** Whether PostgreSQL answers a trivial query right now. */
  isReachable(): Promise<boolean>;
}

export function createHealthStore(db: Queryable): HealthStore {
  return {
    isReachable: () =>
      db.query('SELECT 1').then(
        () => true,
        () => false,
      ),
  };
}
