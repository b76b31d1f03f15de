import { readFileSync } from 'node:fs';
import { COMMAND_PATHS } from '../domain/rollout-machine';
import { jsonOption, UsageError, type Command } from './command-context';
import { formatInsights } from './format-insights';
import { formatRelease } from './format-release';
import type { InsightsAnswer } from './insights-answer';
import type { ReleaseAnswer } from './release-answer';
import { watchRelease } from './watch-release';

interface ReleaseSummary {
  id: string;
  version: string;
  channel: string;
  status: string;
  workflowId: string;
  createdAt: string;
  /** Only the answer to a start carries them. */
  warnings?: string[];
}

export function planOption(plan: string | undefined): unknown {
  if (plan === undefined) return 'default';
  if (!plan.endsWith('.json')) return plan;
  try {
    return JSON.parse(readFileSync(plan, 'utf8')) as unknown;
  } catch (err) {
    throw new UsageError(`--plan ${plan}: ${err instanceof Error ? err.message : String(err)}`, 'releases');
  }
}

export function timeScaleOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new UsageError(`--time-scale must be a number, e.g. 0.001; got "${text}"`, 'releases');
  return value;
}

/** `--bundle-for power=2.1.0`, repeatable: segment → version. */
function segmentBundlesOption(values: string[]): Record<string, string> {
  const mapping: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0 || at === value.length - 1) throw new UsageError(`--bundle-for takes <segment>=<version>, e.g. power=2.1.0; got "${value}"`, 'releases');
    mapping[value.slice(0, at)] = value.slice(at + 1);
  }
  return mapping;
}

interface NotificationsAnswer {
  notifications: Array<{
    segment: string;
    stageIndex: number;
    fromBps: number;
    toBps: number;
    preparedAt: string | null;
    failedAt: string | null;
    lastError: string | null;
    deliveries: Array<{
      scheduledFor: string;
      bundleVersion: string | null;
      arm: string | null;
      deviceCount: number;
      devicesBy: string;
      relays: Array<{ webhookId: string; attempts: number; outcome: string | null }>;
    }>;
  }>;
}

/** What a delivery told its devices about: the version, and in an experiment their arm. */
function announced(d: NotificationsAnswer['notifications'][number]['deliveries'][number]): string {
  const arm = d.arm === null ? '' : `arm ${d.arm}  `;
  return d.bundleVersion === null ? arm : `${arm}${d.bundleVersion}  `;
}

function preparation(n: NotificationsAnswer['notifications'][number]): string {
  if (n.preparedAt) return `prepared ${n.preparedAt}`;
  const error = n.lastError ? ` (${n.lastError})` : '';
  return n.failedAt ? `FAILED ${n.failedAt}${error}` : `not prepared yet${error}`;
}

function formatNotifications(answer: NotificationsAnswer): string[] {
  if (answer.notifications.length === 0) return ['no segment notifications yet'];
  return answer.notifications.flatMap((n) => [
    `${n.segment}  stage ${n.stageIndex}  ${n.fromBps} → ${n.toBps} bps  ${preparation(n)}`,
    ...n.deliveries.map(
      (d) =>
        `  ${d.scheduledFor}  ${announced(d)}${d.deviceCount} devices (${d.devicesBy})  ${d.relays.map((r) => `${r.webhookId}: ${r.outcome ?? 'pending'} after ${r.attempts}`).join(', ') || 'no push relay'}`,
    ),
  ]);
}

/**
 * pause, resume, rollback, promote, promote-full, abort, and force-withdraw (for a release whose
 * workflow is gone): one command per API path.
 */
const releaseActions: Record<string, Command> = Object.fromEntries(
  [...COMMAND_PATHS.keys(), 'force-withdraw'].map((path): [string, Command] => [
    `release ${path}`,
    async (ctx) => {
      const release = await ctx.client.post<ReleaseAnswer>(`/v1/releases/${ctx.pathArg(0, 'releaseId')}/${path}`, { reason: ctx.required('reason') });
      ctx.show(release, () => formatRelease(release, Date.now()));
    },
  ]),
);

/** `releases …` (per app) and `release …` (one release). */
export const releaseCommands: Record<string, Command> = {
  'releases start': async (ctx) => {
    const channel = ctx.option('channel');
    const timeScale = timeScaleOption(ctx.option('time-scale'));
    const release = await ctx.client.post<ReleaseSummary>(`/v1/apps/${ctx.pathArg(0, 'appId')}/releases`, {
      version: ctx.arg(1, 'version'),
      plan: planOption(ctx.option('plan')),
      ...(channel ? { channel } : {}),
      ...(timeScale === undefined ? {} : { timeScale }),
      ...(ctx.flag('supersede') ? { supersede: true } : {}),
      ...(ctx.flag('force') ? { force: true } : {}),
      ...(ctx.list('bundle-for').length > 0 ? { segmentBundles: segmentBundlesOption(ctx.list('bundle-for')) } : {}),
      ...(ctx.list('notify').length > 0 ? { notifications: ctx.list('notify').map((n) => jsonOption(n, 'notify')) } : {}),
    });
    ctx.show(release, () => [
      `started release ${release.id} (workflow ${release.workflowId})`,
      ...(release.warnings ?? []).map((warning) => `warning: ${warning}`),
      `follow it: rampart release watch ${release.id}`,
    ]);
  },
  'releases list': async (ctx) => {
    const query = new URLSearchParams();
    for (const name of ['channel', 'status', 'limit']) {
      const value = ctx.option(name);
      if (value) query.set(name, value);
    }
    const search = query.toString();
    const answer = await ctx.client.get<{ releases: ReleaseSummary[] }>(`/v1/apps/${ctx.pathArg(0, 'appId')}/releases${search ? `?${search}` : ''}`);
    ctx.show(answer, () =>
      answer.releases.length > 0 ? answer.releases.map((r) => `${r.id}  ${r.version.padEnd(10)} ${r.channel.padEnd(12)} ${r.status.padEnd(11)} ${r.createdAt}`) : ['no releases'],
    );
  },
  'release show': async (ctx) => {
    const release = await ctx.client.get<ReleaseAnswer>(`/v1/releases/${ctx.pathArg(0, 'releaseId')}`);
    ctx.show(release, () => formatRelease(release, Date.now()));
  },
  'release notifications': async (ctx) => {
    const answer = await ctx.client.get<NotificationsAnswer>(`/v1/releases/${ctx.pathArg(0, 'releaseId')}/notifications`);
    ctx.show(answer, () => formatNotifications(answer));
  },
  'release insights': async (ctx) => {
    const id = ctx.pathArg(0, 'releaseId');
    const step = ctx.option('step');
    const [release, insights] = await Promise.all([
      ctx.client.get<ReleaseAnswer>(`/v1/releases/${id}`),
      ctx.client.get<InsightsAnswer>(`/v1/releases/${id}/insights${step ? `?step=${encodeURIComponent(step)}` : ''}`),
    ]);
    ctx.show(insights, () => formatInsights(insights, release.exposure));
  },
  'release watch': (ctx) => watchRelease(ctx.client, ctx.arg(0, 'releaseId'), ctx.out, ctx.json),
  ...releaseActions,
};
