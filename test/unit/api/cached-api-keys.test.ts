import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../domain/access';
import type { ApiKeyService } from '../../../api/services/api-key-service';
import { withCachedAuthentication } from '../../../api/services/cached-api-keys';

describe('cached API key lookup', () => {
  it('asks the store once per key within the TTL, forgets after it, and keeps at most maxEntries', async () => {
    const asked: string[] = [];
    let revoked = false;
    const keys = {
      authenticate: (key: string) => {
        asked.push(key);
        return revoked ? Promise.reject(new Error('revoked')) : Promise.resolve({ keyId: key, role: 'admin', appIds: null } as unknown as Principal);
      },
    } as unknown as ApiKeyService;
    let clock = 0;
    const cached = withCachedAuthentication(keys, { ttlMs: 10_000, maxEntries: 2 }, () => clock);
    for (let i = 0; i < 5; i += 1) expect(await cached.authenticate('key-a-0123456789', '127.0.0.1')).toMatchObject({ keyId: 'key-a-0123456789' });
    expect(asked).toHaveLength(1);
    revoked = true;
    clock = 9_999;
    expect(await cached.authenticate('key-a-0123456789', '127.0.0.1')).toMatchObject({ keyId: 'key-a-0123456789' });
    clock = 10_001;
    await expect(cached.authenticate('key-a-0123456789', '127.0.0.1')).rejects.toThrow('revoked');
    await expect(cached.authenticate('key-a-0123456789', '127.0.0.1')).rejects.toThrow('revoked');
    expect(asked).toHaveLength(3);
  });
});
