import type { Command } from './command-context';

interface Webhook {
  id: string;
  url: string;
  events: string[];
  createdAt: string;
  /** Only in the answer to the creation. */
  secret?: string;
}

const webhookLine = (w: Webhook) => `${w.id}  ${w.url}  ${w.events.length > 0 ? w.events.join(',') : 'every event'}`;

/** `webhooks …`. */
export const webhookCommands: Record<string, Command> = {
  'webhooks list': async (ctx) => {
    const answer = await ctx.client.get<{ webhooks: Webhook[] }>(`/v1/apps/${ctx.pathArg(0, 'appId')}/webhooks`);
    ctx.show(answer, () => (answer.webhooks.length > 0 ? answer.webhooks.map(webhookLine) : ['no webhooks']));
  },
  'webhooks create': async (ctx) => {
    const events = ctx.option('events');
    const webhook = await ctx.client.post<Webhook>(`/v1/apps/${ctx.pathArg(0, 'appId')}/webhooks`, {
      url: ctx.arg(1, 'url'),
      ...(events ? { events: events.split(',') } : {}),
    });
    ctx.show(webhook, () => [
      `created webhook ${webhookLine(webhook)}`,
      `secret ${webhook.secret ?? '(not returned)'}`,
      'store the secret now: it is shown only once, and it verifies X-Rampart-Signature on every delivery',
    ]);
  },
  'webhooks delete': async (ctx) => {
    const id = ctx.arg(1, 'webhookId');
    await ctx.client.delete(`/v1/apps/${ctx.pathArg(0, 'appId')}/webhooks/${encodeURIComponent(id)}`);
    if (!ctx.json) ctx.out.write(`deleted webhook ${id}\n`);
  },
};
