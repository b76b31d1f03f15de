import type { Command } from './command-context';
import { readExpoExport } from './expo-export';

interface Bundle {
  version: string;
  nativeRange: string;
  platforms: string[];
  size: number;
  encrypted: boolean;
  createdAt: string;
}

const bundleLine = (b: Bundle) => `${b.version.padEnd(12)} native ${b.nativeRange.padEnd(14)} ${b.platforms.join(',').padEnd(12)} ${String(b.size).padStart(10)} B${b.encrypted ? '  encrypted' : ''}`;

interface Adoption {
  channel: string | null;
  windowHours: number;
  activeDevices: number;
  versions: Array<{ bundleVersion: string | null; devices: number; share: number }>;
}

const adoptionLine = (v: Adoption['versions'][number]) =>
  `${(v.bundleVersion ?? '(unknown)').padEnd(12)} ${String(v.devices).padStart(8)} devices  ${(v.share * 100).toFixed(1).padStart(5)} %`;

interface SigningKeys {
  appId: string;
  algorithm: string;
  keys: Array<{ id: string; status: string; publicKey: string; createdAt: string; publishedUntil: string | null }>;
}

const signingKeyLines = (answer: SigningKeys) =>
  answer.keys.map((k) => `${k.id}  ${k.status.padEnd(8)}  ${answer.algorithm}  created ${k.createdAt}${k.publishedUntil ? `  published until ${k.publishedUntil}` : ''}\n  ${k.publicKey}`);

/** `apps …`, `app adoption`, `app signing-key …` and `bundles …`. */
export const appCommands: Record<string, Command> = {
  'apps create': async (ctx) => {
    const app = await ctx.client.post<{ id: string }>('/v1/apps', { id: ctx.arg(0, 'appId'), name: ctx.required('name') });
    ctx.show(app, () => [`created app ${app.id}`]);
  },
  'apps list': async (ctx) => {
    const answer = await ctx.client.get<{ apps: Array<{ id: string; name: string }> }>('/v1/apps');
    ctx.show(answer, () => answer.apps.map((a) => `${a.id}  ${a.name}`));
  },
  'app adoption': async (ctx) => {
    const query = new URLSearchParams();
    const channel = ctx.option('channel');
    // --window is repeatable for segments; the last one given wins here.
    const window = ctx.list('window').at(-1);
    if (channel) query.set('channel', channel);
    if (window) query.set('window', window);
    const answer = await ctx.client.get<Adoption>(`/v1/apps/${ctx.pathArg(0, 'appId')}/adoption?${query.toString()}`);
    ctx.show(answer, () => [
      `${answer.activeDevices} devices active in the last ${answer.windowHours} h on ${answer.channel ?? 'every channel'}`,
      ...answer.versions.map(adoptionLine),
    ]);
  },
  'app signing-key': async (ctx) => {
    const answer = await ctx.client.get<SigningKeys>(`/v1/apps/${ctx.pathArg(0, 'appId')}/signing-key`);
    ctx.show(answer, () => signingKeyLines(answer));
  },
  'app rotate-signing-key': async (ctx) => {
    const answer = await ctx.client.post<SigningKeys>(`/v1/apps/${ctx.pathArg(0, 'appId')}/signing-key/rotate`, {});
    ctx.show(answer, () => ['rotated: answers are signed with the new active key from now on; the previous one stays published for devices that cache keys', ...signingKeyLines(answer)]);
  },
  'bundles add': async (ctx) => {
    const platforms = ctx.option('platforms');
    const expoDir = ctx.option('expo');
    if (expoDir !== undefined) {
      const body = readExpoExport(expoDir, {
        version: ctx.arg(1, 'version'),
        runtimeVersion: ctx.required('runtime-version'),
        baseUrl: ctx.required('base-url'),
        ...(platforms ? { platforms: platforms.split(',') } : {}),
      });
      const added = await ctx.client.post<Bundle & { runtimeVersion: string; updates: Array<{ platform: string; updateId: string }> }>(`/v1/apps/${ctx.pathArg(0, 'appId')}/expo/bundles`, body);
      ctx.show(added, () => [
        `added Expo bundle ${added.version} for runtime ${added.runtimeVersion}`,
        ...added.updates.map((u) => `  ${u.platform.padEnd(8)} update ${u.updateId}`),
      ]);
      return;
    }
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
