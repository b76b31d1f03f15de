import type { Response } from 'express';
import { SIGNATURE_HEADER } from '../../platform/answer-signing';
import type { AppServing } from '../snapshot/app-serving';

/**
 * Sends an update-check answer with a detached Ed25519 signature over its exact bytes, so a device
 * (or anyone holding the published key) can tell it came from this service, whatever sits between.
 */
export function sendSignedAnswer(res: Response, app: Pick<AppServing, 'signer'> | undefined, answer: unknown): void {
  const body = Buffer.from(JSON.stringify(answer));
  if (app?.signer) res.set(SIGNATURE_HEADER, app.signer(body));
  res.type('application/json').send(body);
}
