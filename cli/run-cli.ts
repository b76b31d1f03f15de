import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isTerminal, type ReleaseStatus } from '../domain/release';
import { COMMAND_PATHS } from '../domain/rollout-machine';
import { formatRelease } from './format-release';
import type { RampartClient } from './rampart-client';

export const USAGE = `usage: rampart <command> [options]     (--json prints the API's answer as is)

  apps create <appId> --name <name>          apps list
  bundles add <appId> <version> --url <url> --sha256 <hex> --size <bytes> [--native-range <range>] [--platforms ios,android]
  channels list <appId>                      channels create <appId> <name> [--public] [--self-assign]
  releases start <appId> <version> [--channel <name>] [--plan <preset|file.json>] [--time-scale <x>] [--supersede]
  releases list <appId>
  release show <releaseId>                   release watch <releaseId>
  release pause|resume|rollback|promote|promote-full|abort <releaseId> --reason "<why>"
`;

interface Options {
  json: boolean;
  values: Record<string, string | boolean | undefined>;
}

export type Print = (line: string) => void;

function required(value: string | boolean | undefined, name: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`missing --${name}`);
  return value;
}

export class UsageError extends Error {}

export async function runCli(args: string[], client: RampartClient, print: Print): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      name: { type: 'string' },
      url: { type: 'string' },
      sha256: { type: 'string' },
      size: { type: 'string' },
      'native-range': { type: 'string' },
      platforms: { type: 'string' },
      public: { type: 'boolean' },
      'self-assign': { type: 'boolean' },
      channel: { type: 'string' },
      plan: { type: 'string' },
      'time-scale': { type: 'string' },
      supersede: { type: 'boolean' },
      reason: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const options: Options = { json: values.json === true, values };
  const show = (answer: Record<string, unknown>, lines: () => string[]) => (options.json ? print(JSON.stringify(answer, null, 2)) : lines().forEach(print));
  const [group, action, ...rest] = positionals;
  const arg = (i: number, name: string) => {
    const value = rest[i];
    if (!value) throw new UsageError(`missing <${name}>`);
    return encodeURIComponent(value);
  };

  switch (`${group ?? ''} ${action ?? ''}`) {
    case 'apps create': {
      const app = await client.post('/v1/apps', { id: rest[0], name: required(values.name, 'name') });
      return show(app, () => [`created app ${String(app.id)}`]);
    }
    case 'apps list': {
      const { apps } = (await client.get('/v1/apps')) as { apps: Array<{ id: string; name: string }> };
      return show({ apps }, () => apps.map((a) => `${a.id}  ${a.name}`));
    }
    case 'bundles add': {
      const bundle = await client.post(`/v1/apps/${arg(0, 'appId')}/bundles`, {
        version: rest[1],
        url: required(values.url, 'url'),
        sha256: required(values.sha256, 'sha256'),
        size: Number(required(values.size, 'size')),
        ...(values['native-range'] ? { nativeRange: values['native-range'] } : {}),
        ...(typeof values.platforms === 'string' ? { platforms: values.platforms.split(',') } : {}),
      });
      return show(bundle, () => [`added bundle ${String(bundle.version)} (native ${String(bundle.nativeRange)}, ${(bundle.platforms as string[]).join(', ')})`]);
    }
    case 'channels list': {
      const { channels } = (await client.get(`/v1/apps/${arg(0, 'appId')}/channels`)) as { channels: Array<Record<string, unknown>> };
      return show({ channels }, () =>
        channels.map((c) => `${String(c.name).padEnd(16)} ${c.public ? 'public ' : 'private'} ${c.allowSelfAssign ? 'self-assign' : '           '}  ${String(c.deploymentKey)}`),
      );
    }
    case 'channels create': {
      const channel = await client.post(`/v1/apps/${arg(0, 'appId')}/channels`, { name: rest[1], public: values.public === true, allowSelfAssign: values['self-assign'] === true });
      return show(channel, () => [`created channel ${String(channel.name)}, deployment key ${String(channel.deploymentKey)}`]);
    }
    case 'releases start': {
      const planArg = typeof values.plan === 'string' ? values.plan : 'default';
      const plan: unknown = planArg.endsWith('.json') ? JSON.parse(readFileSync(planArg, 'utf8')) : planArg;
      const release = await client.post(`/v1/apps/${arg(0, 'appId')}/releases`, {
        version: rest[1],
        plan,
        ...(values.channel ? { channel: values.channel } : {}),
        ...(values['time-scale'] ? { timeScale: Number(values['time-scale']) } : {}),
        ...(values.supersede ? { supersede: true } : {}),
      });
      return show(release, () => [`started release ${String(release.id)} (workflow ${String(release.workflowId)})`]);
    }
    case 'releases list': {
      const { releases } = (await client.get(`/v1/apps/${arg(0, 'appId')}/releases`)) as { releases: Array<Record<string, unknown>> };
      return show({ releases }, () => releases.map((r) => `${String(r.id)}  ${String(r.version).padEnd(10)} ${String(r.channel).padEnd(12)} ${String(r.status)}`));
    }
    case 'release show': {
      const release = await client.get(`/v1/releases/${arg(0, 'releaseId')}`);
      return show(release, () => formatRelease(release));
    }
    case 'release watch': {
      let last = '';
      for (;;) {
        const release = await client.get(`/v1/releases/${arg(0, 'releaseId')}`);
        const lines = formatRelease(release);
        const now = lines.join('\n');
        if (now !== last) print(`${options.json ? JSON.stringify(release) : now}\n`);
        last = now;
        if (isTerminal(release.status as ReleaseStatus)) return;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    default:
      if (group === 'release' && action && COMMAND_PATHS.has(action)) {
        const release = await client.post(`/v1/releases/${arg(0, 'releaseId')}/${action}`, { reason: required(values.reason, 'reason') });
        return show(release, () => formatRelease(release));
      }
      throw new UsageError(values.help ? '' : `unknown command "${positionals.join(' ')}"`);
  }
}

