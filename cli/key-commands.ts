import type { Command } from './command-context';
import { timeOption } from './time-option';

interface ApiKey {
  id: string;
  name: string;
  role: string;
  appIds: string[] | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** Only in the answer to the creation. */
  key?: string;
}

function state(k: ApiKey): string {
  if (k.revokedAt) return `revoked ${k.revokedAt}`;
  if (k.expiresAt) return `${Date.parse(k.expiresAt) <= Date.now() ? 'expired' : 'expires'} ${k.expiresAt}`;
  return 'no expiry';
}

const keyLine = (k: ApiKey) =>
  `${k.id}  ${k.name}  ${k.role}  ${k.appIds ? k.appIds.join(',') : 'every app'}  ${state(k)}  last used ${k.lastUsedAt ?? 'never'}`;

/** `keys …`: for admin keys that reach every app. */
export const keyCommands: Record<string, Command> = {
  'keys list': async (ctx) => {
    const answer = await ctx.client.get<{ apiKeys: ApiKey[] }>('/v1/api-keys');
    ctx.show(answer, () => (answer.apiKeys.length > 0 ? answer.apiKeys.map(keyLine) : ['no API keys']));
  },
  'keys create': async (ctx) => {
    const apps = ctx.option('apps');
    const expires = ctx.option('expires');
    const created = await ctx.client.post<ApiKey>('/v1/api-keys', {
      name: ctx.arg(0, 'name'),
      role: ctx.required('role'),
      ...(apps ? { appIds: apps.split(',') } : {}),
      ...(expires ? { expiresAt: timeOption(expires, 'expires', 1) } : {}),
    });
    ctx.show(created, () => [`created key ${keyLine(created)}`, `key ${created.key ?? '(not returned)'}`, 'store the key now: it is shown only once']);
  },
  'keys revoke': async (ctx) => {
    const id = ctx.arg(0, 'keyId');
    await ctx.client.delete(`/v1/api-keys/${encodeURIComponent(id)}`);
    if (!ctx.json) ctx.out.write(`revoked key ${id}; it can never be used again\n`);
  },
};
