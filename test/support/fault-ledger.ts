import type { Queryable } from '../../db/create-pool';
import type { WebhookReceiver } from './webhook-receiver';

/** One transition of a release as the audit log keeps it (written once per transition, keyed by seq). */
export interface LedgerTransition {
  seq: number;
  event: string;
  stageIndex: number | null;
}

export async function transitionsOf(db: Queryable, releaseId: string): Promise<LedgerTransition[]> {
  const { rows } = await db.query<{ idempotency_key: string; action: string; stage_index: number | null }>(
    `SELECT a.idempotency_key, a.action, (a.details->>'stageIndex')::int AS stage_index
     FROM audit_log a WHERE a.target = $1 AND a.idempotency_key IS NOT NULL`,
    [`release:${releaseId}`],
  );
  return rows
    .map((r) => ({ seq: Number(r.idempotency_key.split(':').pop()), event: r.action.replace(/^release\./, ''), stageIndex: r.stage_index }))
    .sort((a, b) => a.seq - b.seq);
}

/**
 * What is wrong with a finished release's ledger, empty when nothing: transitions numbered 1..n with
 * no gap or repeat, `started` first, every stage of the plan entered once and in order (none skipped,
 * none repeated), the given end last and nothing after it.
 */
export function ledgerProblems(transitions: LedgerTransition[], stages: number, end = 'completed'): string[] {
  const problems: string[] = [];
  const seqs = transitions.map((t) => t.seq);
  if (seqs.some((seq, i) => seq !== i + 1)) problems.push(`transition numbers are not 1..${seqs.length}: ${seqs.join(',')}`);
  if (transitions[0]?.event !== 'started') problems.push(`the first transition is ${transitions[0]?.event ?? 'missing'}, not started`);
  const entered = transitions.filter((t) => t.event === 'stage_started').map((t) => t.stageIndex);
  const plan = Array.from({ length: stages }, (_, i) => i);
  if (JSON.stringify(entered) !== JSON.stringify(plan)) problems.push(`stages entered ${JSON.stringify(entered)}, the plan has ${JSON.stringify(plan)}`);
  const ends = transitions.filter((t) => t.event === end);
  if (ends.length !== 1 || transitions.at(-1)?.event !== end) problems.push(`expected one ${end} transition, last; got ${transitions.map((t) => t.event).join(' → ')}`);
  return problems;
}

/**
 * What is wrong with the webhooks a receiver accepted for a release (subscribed to every event): one
 * delivery per transition of the ledger, with its idempotency key, and none twice.
 */
export function deliveryProblems(receiver: WebhookReceiver, releaseId: string, transitions: LedgerTransition[]): string[] {
  const problems: string[] = [];
  const mine = receiver.accepted.filter((d) => d.releaseId === releaseId);
  const duplicates = receiver.duplicates().filter((key) => key.startsWith(`${releaseId}:`));
  if (duplicates.length > 0) problems.push(`deliveries accepted twice: ${duplicates.join(', ')}`);
  const delivered = new Set(mine.map((d) => `${d.seq}:${d.event}`));
  const missing = transitions.filter((t) => !delivered.has(`${t.seq}:${t.event}`));
  if (missing.length > 0) problems.push(`transitions never delivered: ${missing.map((t) => `${t.seq} ${t.event}`).join(', ')}`);
  const extra = mine.filter((d) => !transitions.some((t) => t.seq === d.seq && t.event === d.event));
  if (extra.length > 0) problems.push(`deliveries of no transition: ${extra.map((d) => d.idempotencyKey).join(', ')}`);
  return problems;
}

/** Events stored per device, for acknowledged (202) posts that each used a device id of their own. */
export async function storedEventsPerDevice(db: Queryable, appId: string, deviceIds: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ device_id: string; n: number }>(
    'SELECT e.device_id, count(*)::int AS n FROM device_events e WHERE e.app_id = $1 AND e.device_id = ANY($2::text[]) GROUP BY e.device_id',
    [appId, deviceIds],
  );
  return new Map(rows.map((r) => [r.device_id, r.n]));
}

/** Webhook deliveries the outbox has not finished (delivered, rejected or given up). */
export async function pendingDeliveries(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_outbox o WHERE o.finished_at IS NULL');
  return rows[0]!.n;
}
