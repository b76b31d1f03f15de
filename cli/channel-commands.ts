import { UsageError, type Command, type CommandContext } from './command-context';

interface Channel {
  name: string;
  public: boolean;
  allowSelfAssign: boolean;
  platforms: string[];
  deploymentKey: string;
}

const channelLine = (c: Channel) =>
  `${c.name.padEnd(16)} ${c.public ? 'public ' : 'private'} ${c.allowSelfAssign ? 'self-assign' : '           '}  ${c.platforms.join(',').padEnd(12)} ${c.deploymentKey}`;

/** The channel settings given on the command line; absent flags are left out so the API keeps them. */
function settings(ctx: CommandContext): Partial<Pick<Channel, 'public' | 'allowSelfAssign' | 'platforms'>> {
  const isPublic = ctx.flag('public');
  const selfAssign = ctx.flag('self-assign');
  const platforms = ctx.option('platforms');
  return {
    ...(isPublic === undefined ? {} : { public: isPublic }),
    ...(selfAssign === undefined ? {} : { allowSelfAssign: selfAssign }),
    ...(platforms ? { platforms: platforms.split(',') } : {}),
  };
}

/** `channels …`. */
export const channelCommands: Record<string, Command> = {
  'channels list': async (ctx) => {
    const answer = await ctx.client.get<{ channels: Channel[] }>(`/v1/apps/${ctx.pathArg(0, 'appId')}/channels`);
    ctx.show(answer, () => answer.channels.map(channelLine));
  },
  'channels create': async (ctx) => {
    const channel = await ctx.client.post<Channel>(`/v1/apps/${ctx.pathArg(0, 'appId')}/channels`, { name: ctx.arg(1, 'name'), ...settings(ctx) });
    ctx.show(channel, () => [`created channel ${channel.name}, deployment key ${channel.deploymentKey}`, channelLine(channel)]);
  },
  'channels update': async (ctx) => {
    const changes = settings(ctx);
    if (Object.keys(changes).length === 0) throw new UsageError('say what to change: --public or --no-public, --self-assign or --no-self-assign, --platforms', 'channels');
    const channel = await ctx.client.patch<Channel>(`/v1/apps/${ctx.pathArg(0, 'appId')}/channels/${ctx.pathArg(1, 'name')}`, changes);
    ctx.show(channel, () => [`updated channel ${channel.name}`, channelLine(channel)]);
  },
};
