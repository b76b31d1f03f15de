import type { Principal } from '../../domain/access';
import type { ApiKeyCacheConfig } from '../../platform/config';
import { hashApiKey, type ApiKeyService } from './api-key-service';

export interface CachedApiKeyService extends ApiKeyService {
  /** Drops every remembered key: one was revoked through another instance (its NOTIFY). */
  forgetAll(): void;
}

/**
 * Remembers the principal of recently used keys for `ttlMs`, by hash, in a bounded LRU: every admin
 * call otherwise costs a PostgreSQL round trip before any work. A revocation through this instance
 * applies at once; one through another instance as soon as its notification arrives (`forgetAll`).
 * Refused keys are not remembered, so a new key works at once and guesses cannot push out real keys;
 * expiry and last use are checked and recorded on each trip to the store, so at most `ttlMs` apart.
 */
export function withCachedAuthentication(keys: ApiKeyService, options: ApiKeyCacheConfig, now: () => number = Date.now): CachedApiKeyService {
  const cache = new Map<string, { principal: Principal; until: number }>();
  return {
    forgetAll: () => cache.clear(),
    ...keys,
    async authenticate(key, source) {
      const hash = hashApiKey(key);
      const hit = cache.get(hash);
      if (hit) {
        cache.delete(hash);
        if (hit.until > now()) {
          cache.set(hash, hit);
          return hit.principal;
        }
      }
      // A refused key throws (and is recorded as a failed sign-in each time): only successes are kept.
      const principal = await keys.authenticate(key, source);
      if (options.maxEntries > 0) {
        if (cache.size >= options.maxEntries) cache.delete(cache.keys().next().value!);
        cache.set(hash, { principal, until: now() + options.ttlMs });
      }
      return principal;
    },
    async revoke(id, principal) {
      const revoked = await keys.revoke(id, principal);
      // Hashes are all the cache knows, not ids: forgetting every key is cheap and exact.
      cache.clear();
      return revoked;
    },
  };
}
