import { createHash } from 'node:crypto';
import { grantRefusal, type Principal, type Role } from '../../domain/access';
import { createBoundedCache } from '../../domain/bounded-cache';
import { ForbiddenError } from '../../domain/errors/forbidden-error';
import { NotFoundError } from '../../domain/errors/not-found-error';
import { UnauthorizedError } from '../../domain/errors/unauthorized-error';
import { ValidationError } from '../../domain/errors/validation-error';
import { MINUTE_MS } from '../../domain/time';
import type { Stores, Transactor } from '../../db/create-stores';
import type { ApiKey, BootstrapOutcome } from '../../db/stores/api-key-store';
import { newId, newSecret } from '../../platform/ids';
import type { Logger } from '../../platform/logger';
import type { ApiMetrics } from '../api-metrics';
import { auditByKey } from './app-audit';

export const BOOTSTRAP_KEY_ID = 'bootstrap-admin';
const KEY_PREFIX = 'rk_';
/** The actor of what Rampart does to keys on its own at start-up. */
const SYSTEM_ACTOR = 'system:bootstrap';
// Sources remembered for the failed sign-in limit; past that the oldest are forgotten (and may be audited again).
const FAILURE_SOURCES_REMEMBERED = 10_000;

/** Keys are 256-bit random secrets, so a fast unsalted hash is enough to keep them unreadable at rest. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export type AuthFailure = 'missing' | 'unknown' | 'revoked' | 'expired';

export interface NewKeyInput {
  name: string;
  role: Role;
  appIds: string[] | null;
  /** ISO 8601; absent: the key does not expire. */
  expiresAt?: string | undefined;
}

export interface ApiKeyService {
  /** The key's principal; throws UnauthorizedError saying why not (and records the failure). */
  authenticate(key: string, source: string): Promise<Principal>;
  /** Counts a failed sign-in and audits it, at most once a minute per source address. */
  recordFailure(source: string, reason: AuthFailure): void;
  /** Applies RAMPART_ADMIN_KEY, or on a first start without it creates one and returns it (shown once). */
  bootstrap(configuredKey: string | undefined): Promise<{ generatedKey: string | null }>;
  create(input: NewKeyInput, principal: Principal): Promise<{ key: string; apiKey: ApiKey }>;
  list(): Promise<ApiKey[]>;
  revoke(id: string, principal: Principal): Promise<ApiKey>;
}

export interface ApiKeyServiceDeps {
  stores: Pick<Stores, 'apiKeys' | 'audit'>;
  transact: Transactor;
  metrics: Pick<ApiMetrics, 'authFailures'>;
  logger: Logger;
}

function expiryOf(input: NewKeyInput, now: number): Date | null {
  if (input.expiresAt === undefined) return null;
  const at = new Date(input.expiresAt);
  if (at.getTime() <= now) throw new ValidationError('expiresAt must be in the future', [{ path: 'expiresAt', message: 'in the past' }]);
  return at;
}

function refusalOf(apiKey: ApiKey | null, now: number): { reason: AuthFailure; message: string } | null {
  if (!apiKey) return { reason: 'unknown', message: 'unknown API key' };
  if (apiKey.revokedAt !== null) return { reason: 'revoked', message: 'this API key was revoked; ask an admin for a new one' };
  if (apiKey.expiresAt !== null && Date.parse(apiKey.expiresAt) <= now) {
    return { reason: 'expired', message: `this API key expired at ${apiKey.expiresAt}; ask an admin for a new one` };
  }
  return null;
}

export function createApiKeyService({ stores, transact, metrics, logger }: ApiKeyServiceDeps): ApiKeyService {
  const auditedFailures = createBoundedCache<true>(FAILURE_SOURCES_REMEMBERED);
  const lastTouched = new Map<string, number>();

  const recordFailure = (source: string, reason: AuthFailure) => {
    metrics.authFailures.inc({ reason });
    const minute = Math.floor(Date.now() / MINUTE_MS);
    let first = false;
    auditedFailures.get(`${source} ${minute}`, () => (first = true));
    if (!first) return;
    // Keyed by source and minute, so several API instances write one row between them.
    const entry = { actor: `address:${source}`, action: 'auth.failed', target: 'admin_api', reason: null, details: { source, reason } };
    stores.audit.recordOnce(entry, `auth_failed:${source}:${minute}`).catch((err: unknown) => logger.error({ err, source }, 'could not audit a failed sign-in'));
  };

  // Off the request's path: the answer does not wait for this write, and a key is written once a minute at most.
  const touch = (keyId: string) => {
    const now = Date.now();
    if (now - (lastTouched.get(keyId) ?? 0) < MINUTE_MS) return;
    lastTouched.set(keyId, now);
    stores.apiKeys.touch(keyId, MINUTE_MS).catch((err: unknown) => logger.warn({ err, keyId }, 'could not note when an API key was last used'));
  };

  const auditBootstrap = async (tx: Stores, outcome: BootstrapOutcome) => {
    if (outcome === 'unchanged') return;
    const action = outcome === 'revoked' ? 'api_key.bootstrap_refused' : `api_key.bootstrap_${outcome}`;
    await tx.audit.record({ actor: SYSTEM_ACTOR, action, target: `api_key:${BOOTSTRAP_KEY_ID}`, reason: null, details: { source: 'RAMPART_ADMIN_KEY' } });
  };

  return {
    async authenticate(key, source) {
      const apiKey = key.length < 16 ? null : await stores.apiKeys.findByHash(hashApiKey(key));
      const refusal = refusalOf(apiKey, Date.now());
      if (refusal) {
        recordFailure(source, refusal.reason);
        throw new UnauthorizedError(refusal.message, { reason: refusal.reason });
      }
      touch(apiKey!.keyId);
      return { keyId: apiKey!.keyId, name: apiKey!.name, role: apiKey!.role, appIds: apiKey!.appIds };
    },
    recordFailure,
    async bootstrap(configuredKey) {
      const base = { id: BOOTSTRAP_KEY_ID, name: 'bootstrap-admin', role: 'admin' as const, appIds: null };
      if (configuredKey) {
        const outcome = await transact(async (tx) => {
          const applied = await tx.apiKeys.applyBootstrap({ ...base, keyHash: hashApiKey(configuredKey) });
          await auditBootstrap(tx, applied);
          return applied;
        });
        if (outcome === 'revoked') {
          logger.error(
            { keyId: BOOTSTRAP_KEY_ID },
            'RAMPART_ADMIN_KEY is not accepted: the bootstrap admin key was revoked, and revoked keys stay revoked. ' +
              'Sign in with another admin key for every app (rampart keys create) and remove RAMPART_ADMIN_KEY from the environment; ' +
              `if none is left, someone with database access deletes the revoked row (DELETE FROM api_keys WHERE id = '${BOOTSTRAP_KEY_ID}') and restarts with a new RAMPART_ADMIN_KEY.`,
          );
        }
        return { generatedKey: null };
      }
      const generated = newSecret(KEY_PREFIX);
      const inserted = await transact(async (tx) => {
        const created = await tx.apiKeys.insertIfAbsent({ ...base, keyHash: hashApiKey(generated) });
        if (created) await auditBootstrap(tx, 'created');
        return created;
      });
      return { generatedKey: inserted ? generated : null };
    },
    async create(input, principal) {
      const refusal = grantRefusal(principal, input);
      if (refusal) throw new ForbiddenError(refusal);
      const expiresAt = expiryOf(input, Date.now());
      const key = newSecret(KEY_PREFIX);
      const apiKey = await transact(async (tx) => {
        const created = await tx.apiKeys.insert({ id: newId(), name: input.name, keyHash: hashApiKey(key), role: input.role, appIds: input.appIds, expiresAt });
        await auditByKey(tx, principal, {
          action: 'api_key.create',
          target: `api_key:${created.keyId}`,
          reason: null,
          details: { name: input.name, role: input.role, appIds: input.appIds, expiresAt: created.expiresAt },
        });
        return created;
      });
      return { key, apiKey };
    },
    list() {
      return stores.apiKeys.list();
    },
    revoke(id, principal) {
      return transact(async (tx) => {
        const revoked = await tx.apiKeys.revoke(id);
        if (!revoked) throw new NotFoundError(`no API key ${id}`);
        await auditByKey(tx, principal, { action: 'api_key.revoke', target: `api_key:${id}`, reason: null, details: { name: revoked.name } });
        return revoked;
      });
    },
  };
}
