import { createHash } from 'node:crypto';
import { actorOf, type Principal, type Role } from '../../domain/access';
import { NotFoundError } from '../../domain/errors/not-found-error';
import type { Stores } from '../../db/create-stores';
import type { ApiKey } from '../../db/stores/api-key-store';
import { newId, newSecret } from '../../platform/ids';

export const BOOTSTRAP_KEY_ID = 'bootstrap-admin';
const KEY_PREFIX = 'rk_';

/** Keys are 256-bit random secrets, so a fast unsalted hash is enough to keep them unreadable at rest. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export interface ApiKeyService {
  authenticate(key: string): Promise<Principal | null>;
  /** Applies RAMPART_ADMIN_KEY, or on a first start without it creates one and returns it (shown once). */
  bootstrap(configuredKey: string | undefined): Promise<{ generatedKey: string | null }>;
  create(input: { name: string; role: Role; appIds: string[] | null }, principal: Principal): Promise<{ key: string; apiKey: ApiKey }>;
  list(): Promise<ApiKey[]>;
  revoke(id: string, principal: Principal): Promise<ApiKey>;
}

export function createApiKeyService(stores: Pick<Stores, 'apiKeys' | 'audit'>): ApiKeyService {
  return {
    async authenticate(key) {
      if (key.length < 16) return null;
      return stores.apiKeys.findActiveByHash(hashApiKey(key));
    },
    async bootstrap(configuredKey) {
      const base = { id: BOOTSTRAP_KEY_ID, name: 'bootstrap-admin', role: 'admin' as const, appIds: null };
      if (configuredKey) {
        await stores.apiKeys.upsert({ ...base, keyHash: hashApiKey(configuredKey) });
        return { generatedKey: null };
      }
      const generated = newSecret(KEY_PREFIX);
      const inserted = await stores.apiKeys.insertIfAbsent({ ...base, keyHash: hashApiKey(generated) });
      return { generatedKey: inserted ? generated : null };
    },
    async create(input, principal) {
      const key = newSecret(KEY_PREFIX);
      const apiKey = await stores.apiKeys.insert({ id: newId(), name: input.name, keyHash: hashApiKey(key), role: input.role, appIds: input.appIds });
      await stores.audit.record({
        actor: actorOf(principal),
        action: 'api_key.create',
        target: `api_key:${apiKey.keyId}`,
        reason: null,
        details: { name: input.name, role: input.role, appIds: input.appIds },
      });
      return { key, apiKey };
    },
    list() {
      return stores.apiKeys.list();
    },
    async revoke(id, principal) {
      const revoked = await stores.apiKeys.revoke(id);
      if (!revoked) throw new NotFoundError(`no API key ${id}`);
      await stores.audit.record({ actor: actorOf(principal), action: 'api_key.revoke', target: `api_key:${id}`, reason: null });
      return revoked;
    },
  };
}
