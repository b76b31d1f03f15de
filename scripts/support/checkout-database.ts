import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * The database `npm start` uses on a shared PostgreSQL server: one per checkout, so two checkouts on
 * one machine never share releases or overwrite each other's bootstrap admin key. Readable (the
 * folder's name) and unique (a hash of its full path), within PostgreSQL's 63-byte identifiers.
 */
export function checkoutDatabaseName(checkoutRoot: string): string {
  const folder = path.basename(path.resolve(checkoutRoot)).toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40);
  const hash = createHash('sha256').update(path.resolve(checkoutRoot)).digest('hex').slice(0, 8);
  return `rampart_${folder || 'checkout'}_${hash}`;
}
