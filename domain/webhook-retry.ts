/**
 * How webhook deliveries are retried: the same policy the workflow's notify activity had (2 s,
 * doubling, at most 5 min apart), given up an hour after the transition was recorded.
 */
export const WEBHOOK_RETRY = {
  initialIntervalMs: 2000,
  backoffCoefficient: 2,
  maximumIntervalMs: 5 * 60_000,
  giveUpAfterMs: 60 * 60_000,
} as const;

/** Delay before the next attempt after `attempts` failed ones (1 = the first attempt failed). */
export function webhookRetryDelayMs(attempts: number, policy: typeof WEBHOOK_RETRY = WEBHOOK_RETRY): number {
  const exponent = Math.max(0, attempts - 1);
  return Math.min(policy.maximumIntervalMs, policy.initialIntervalMs * policy.backoffCoefficient ** exponent);
}
