import { waitFor } from '../../scripts/support/until';
import { pendingDeliveries } from '../support/fault-ledger';
import { bucketSaltOf, devicesInBuckets, startRelease } from '../support/fixtures';
import type { ProcessStack } from '../support/process-stack';
import type { ApiProcess } from '../support/service-processes';

export interface CheckAnswer {
  action: string;
  releaseId?: string;
}

/** A check from an Android device on the binary's bundle: the fault tests' fleet. */
export const checkBody = (deviceId: string) => ({ deviceId, platform: 'android', nativeVersion: '2.0.0', bundleVersion: 'builtin' });

export interface ServedRelease {
  id: string;
  /** The release's bucket salt, to pick devices by bucket. */
  salt: string;
  answer: (deviceId: string) => Promise<CheckAnswer>;
}

/**
 * Starts a release of 1.0.0 and waits until its first stage reaches a canary's answer and its webhook
 * the receiver: the settled state each fault then breaks.
 */
export async function startServedRelease(stack: ProcessStack, api: ApiProcess, appId: string, plan: { stages: Array<{ exposureBps: number }> }): Promise<ServedRelease> {
  const id = await startRelease(api.admin, appId, { version: '1.0.0', plan });
  const salt = await bucketSaltOf(stack, id);
  const answer = async (deviceId: string) => (await api.device.post<CheckAnswer>(`/v1/apps/${appId}/check`, checkBody(deviceId))).body;
  const [canary] = devicesInBuckets(salt, 0, plan.stages[0]!.exposureBps, 1, 'first-canary');
  await waitFor('stage 0 to be served', () => answer(canary!), (a) => a.action === 'update' && a.releaseId === id);
  await waitFor('stage 0 delivered to the receiver', () => pendingDeliveries(stack.db.pool), (n) => n === 0);
  return { id, salt, answer };
}
