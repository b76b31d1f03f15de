import type { Response } from 'express';
import { SIGNATURE_HEADER, type AnswerSigner } from '../../platform/answer-signing';
import type { AppServing } from '../snapshot/app-serving';

interface Prepared {
  body: Buffer;
  signature: string | null;
}

/** Variants kept per decision: what a device sends beyond its decision is not bounded, the cache is. */
const MAX_VARIANTS = 64;
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Update-check answers, each serialised and signed once and then sent as is. A decision is one object
 * per (release revision, answer) (see decide), so the same decision yields the same bytes for as long as
 * the app is signed with the same key; `variant` names whatever else of the request the protocol's
 * answer carries ('' when nothing). Keyed weakly by signer and decision, entries go with the snapshot
 * that made them.
 */
export interface SignedAnswers {
  send(res: Response, app: Pick<AppServing, 'signer'>, decision: object, variant: string, answer: () => unknown): void;
}

export function createSignedAnswers(): SignedAnswers {
  const bySigner = new WeakMap<AnswerSigner, WeakMap<object, Map<string, Prepared>>>();
  const unsigned = new WeakMap<object, Map<string, Prepared>>();

  const prepare = (signer: AnswerSigner | null, answer: unknown): Prepared => {
    const body = Buffer.from(JSON.stringify(answer));
    return { body, signature: signer ? signer(body) : null };
  };

  const variantsOf = (signer: AnswerSigner | null, decision: object): Map<string, Prepared> => {
    let byDecision = signer ? bySigner.get(signer) : unsigned;
    if (!byDecision) bySigner.set(signer!, (byDecision = new WeakMap<object, Map<string, Prepared>>()));
    let variants = byDecision.get(decision);
    if (!variants) byDecision.set(decision, (variants = new Map<string, Prepared>()));
    return variants;
  };

  return {
    send(res, app, decision, variant, answer) {
      const variants = variantsOf(app.signer, decision);
      let prepared = variants.get(variant);
      if (!prepared) {
        prepared = prepare(app.signer, answer());
        if (variants.size < MAX_VARIANTS) variants.set(variant, prepared);
      }
      if (prepared.signature !== null) res.setHeader(SIGNATURE_HEADER, prepared.signature);
      res.setHeader('content-type', JSON_TYPE);
      res.send(prepared.body);
    },
  };
}
