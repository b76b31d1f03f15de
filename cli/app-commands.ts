import type { Command } from './command-context';

interface Bundle {
  version: string;
  nativeRange: string;
  platforms: string[];
  size: number;
  encrypted: boolean;
  createdAt: string;
}

const bundleLine = (b: Bundle) => `${b.version.padEnd(12)} native ${b.nativeRange.padEnd(14)} ${b.platforms.join(',').padEnd(12)} ${String(b.size).padStart(10)} B${b.encrypted ? '  encrypted' : ''}`;

/** `apps …` and `bundles …`. */
export const appCommands: Record<string, Command> = {
  'apps create': async (ctx) => {
    const app = await ctx.client.post<{ id: string }>('/v1/apps', { id: ctx.arg(0, 'appId'), name: ctx.required('name') });
    ctx.show(app, () => [`created app ${app.id}`]);
  },
  'apps list': async (ctx) => {
    const answer = await ctx.client.get<{ apps: Array<{ id: string; name: string }> }>('/v1/apps');
    ctx.show(answer, () => answer.apps.map((a) => `${a.id}  ${a.name}`));
  },
  'bundles add': async (ctx) => {
    const platforms = ctx.option('platforms');
    const nativeRange = ctx.option('native-range');
    const bundle = await ctx.client.post<Bundle>(`/v1/apps/${ctx.pathArg(0, 'appId')}/bundles`, {
      version: ctx.arg(1, 'version'),
      url: ctx.required('url'),
      sha256: ctx.required('sha256'),
      size: Number(ctx.required('size')),
      ...(nativeRange ? { nativeRange } : {}),
      ...(platforms ? { platforms: platforms.split(',') } : {}),
    });
    ctx.show(bundle, () => [`added bundle ${bundle.version} (native ${bundle.nativeRange}, ${bundle.platforms.join(', ')})`]);
  },
  'bundles list': async (ctx) => {
    const answer = await ctx.client.get<{ bundles: Bundle[] }>(`/v1/apps/${ctx.pathArg(0, 'appId')}/bundles`);
    ctx.show(answer, () => (answer.bundles.length > 0 ? answer.bundles.map(bundleLine) : ['no bundles yet']));
  },
};
