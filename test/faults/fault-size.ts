/**
 * How big each fault is. CI runs the small size inside `npm test` (a couple of minutes on 2 cores);
 * `npm run test:faults` sets RAMPART_FAULTS=full for the sizes the issue names (30 s outages, more
 * devices, more kills). Each number can also be set on its own through the variable named beside it.
 */
const FULL = process.env.RAMPART_FAULTS === 'full';

function size(name: string, small: number, full: number): number {
  const set = process.env[name];
  return set === undefined || set === '' ? (FULL ? full : small) : Number(set);
}

export const FAULT_SIZE = {
  full: FULL,
  /** Rounds of (kill -9 the worker mid-bake, then mid-publish) in one release. */
  workerKillRounds: size('FAULTS_WORKER_KILL_ROUNDS', 1, 3),
  /** Devices posting events at once while an API instance is killed, and kills in a run. */
  ingestConcurrency: size('FAULTS_INGEST_CONCURRENCY', 8, 40),
  apiKills: size('FAULTS_API_KILLS', 1, 3),
  /** How long PostgreSQL is gone. */
  postgresOutageMs: size('FAULTS_POSTGRES_OUTAGE_MS', 4000, 30_000),
  /** How long the Temporal dev server is gone before it is started again. */
  temporalOutageMs: size('FAULTS_TEMPORAL_OUTAGE_MS', 3000, 30_000),
  /** Delivery attempts the webhook receiver misses while down (retried after 2 s, doubling). */
  webhookMissedAttempts: size('FAULTS_WEBHOOK_MISSED_ATTEMPTS', 2, 4),
} as const;

/** Per-test budget: a fault's own length, plus starting processes and retries on a busy machine. */
export const faultTimeout = (faultMs = 0) => 150_000 + 4 * faultMs;
