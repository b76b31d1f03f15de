import { describe, expect, it } from 'vitest';
import { WEBHOOK_RETRY, webhookRetryDelayMs } from '../../../domain/webhook-retry';

describe(webhookRetryDelayMs.name, () => {
  it('starts at the initial interval, doubles, and stops growing at the maximum', () => {
    expect([1, 2, 3, 4].map((n) => webhookRetryDelayMs(n))).toEqual([2000, 4000, 8000, 16_000]);
    expect(webhookRetryDelayMs(30)).toBe(WEBHOOK_RETRY.maximumIntervalMs);
    expect(webhookRetryDelayMs(0)).toBe(WEBHOOK_RETRY.initialIntervalMs);
  });
});
