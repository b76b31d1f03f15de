import type { Command } from './command-context';
import { timeOption } from './time-option';

interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  target: string;
  reason: string | null;
  details: Record<string, unknown>;
}

function actorLabel(e: AuditEntry): string {
  const name = typeof e.details.keyName === 'string' ? ` (${e.details.keyName})` : '';
  const claimed = typeof e.details.claimedBy === 'string' ? ` [claimed, via ${e.details.claimedBy}]` : '';
  return `${e.actor}${name}${claimed}`;
}

const entryLine = (e: AuditEntry) => `${e.at}  ${actorLabel(e)}  ${e.action}  ${e.target}${e.reason ? `  "${e.reason}"` : ''}`;

/** `audit`: the audit log, newest first. */
export const auditCommands: Record<string, Command> = {
  audit: async (ctx) => {
    const query = new URLSearchParams();
    for (const [option, param] of [['app', 'appId'], ['actor', 'actor'], ['action', 'action'], ['limit', 'limit']] as const) {
      const value = ctx.option(option);
      if (value) query.set(param, value);
    }
    const since = ctx.option('since');
    if (since) query.set('from', timeOption(since, 'since', -1));
    const answer = await ctx.client.get<{ entries: AuditEntry[] }>(`/v1/audit${query.size > 0 ? `?${query.toString()}` : ''}`);
    ctx.show(answer, () => (answer.entries.length > 0 ? answer.entries.map(entryLine) : ['no audit entries']));
  },
};
