import type { ArmResult, ExperimentResults } from '../domain/experiment-results';
import { UsageError, type Command, type CommandContext } from './command-context';
import { formatDuration } from './format-duration';
import { planOption, timeScaleOption } from './release-commands';

const SPAN_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

interface ArmInput {
  key: string;
  version?: string;
  installMode?: string;
  weight?: number;
}

/** `--arm key[=version][:install mode][:weight]`, e.g. `a`, `b=1.1.0`, `c=1.1.0:immediate:2`. */
export function parseArm(text: string): ArmInput {
  const [head = '', ...rest] = text.split(':');
  const [key = '', version] = head.split('=');
  if (key === '') throw new UsageError(`--arm takes key[=version][:install mode][:weight], e.g. b=1.1.0:immediate; got "${text}"`, 'experiment');
  const arm: ArmInput = { key, ...(version ? { version } : {}) };
  for (const part of rest) {
    if (/^\d+$/.test(part)) arm.weight = Number(part);
    else arm.installMode = part;
  }
  return arm;
}

function spanMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const span = /^(\d+)([mhd])$/.exec(text);
  if (!span) throw new UsageError(`--time-limit takes a span such as 90m, 24h or 14d; got "${text}"`, 'experiment');
  return Number(span[1]) * SPAN_MS[span[2]!]!;
}

const percent = (x: number | null | undefined) => (x === null || x === undefined ? '?' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`);

function armValue(arm: ArmResult, metric: string): string {
  if (arm.value === null) return '—';
  if (metric === 'session_duration') return formatDuration(arm.value);
  return metric === 'feature_use' ? `${arm.value.toFixed(3)} uses/session` : `${(arm.value * 100).toFixed(1)} %`;
}

function armComparison(arm: ArmResult): string {
  if (arm.control) return 'control';
  const r = arm.relative;
  if (!r || r.estimate === null) return '—';
  return `${percent(r.estimate)} [${percent(r.lower)}, ${percent(r.upper)}] ${arm.verdict ?? ''}`.trim();
}

/** The results as a release engineer reads them: one line per arm, then what was decided. */
export function formatExperimentResults(results: ExperimentResults): string[] {
  const metric = results.primary.metric;
  const lines = [
    `experiment ${results.releaseId}: ${results.status}${results.live ? '' : ' (Temporal unreachable: no statistics)'}`,
    `primary ${metric}${results.primary.feature === undefined ? '' : ` of ${results.primary.feature}`} (${results.primary.direction} is better), control ${results.control}, α ${results.alpha}; guardrails ${results.guardrails.join(', ') || 'none'}`,
  ];
  const rows = results.arms.map((arm) => [
    arm.key,
    arm.version ?? 'baseline',
    arm.installMode,
    String(arm.sample),
    armValue(arm, metric),
    armComparison(arm),
    arm.stopped ? `stopped: ${arm.stoppedReason ?? 'by command'}` : (arm.guardrail.verdict ?? '—'),
  ]);
  const header = ['arm', 'bundle', 'install', 'sample', 'value', 'vs control [always-valid interval]', 'guardrail'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  lines.push(line(header), ...rows.map(line));
  const srm = results.sampleRatio;
  if (srm) lines.push(`sample ratio: ${srm.observed.join(' / ')} devices, p ${srm.pValue.toFixed(3)}${srm.mismatch ? ' → MISMATCH (paused)' : ''}`);
  if (results.promotedArm) lines.push(`arm ${results.promotedArm} was promoted: it is the channel's release now`);
  else if (results.conclusion) lines.push(`concluded: ${results.conclusion.reason}`);
  else lines.push(results.winner ? `winner so far: ${results.winner}` : 'no winner yet');
  return lines;
}

async function showResults(ctx: CommandContext, path: string, body?: Record<string, unknown>): Promise<void> {
  const results = body ? await ctx.client.post<ExperimentResults>(path, body) : await ctx.client.get<ExperimentResults>(path);
  ctx.show(results, () => formatExperimentResults(results));
}

/** `experiment …`: start one, read its results, stop or promote an arm. */
export const experimentCommands: Record<string, Command> = {
  'experiment start': async (ctx) => {
    const arms = ctx.list('arm').map(parseArm);
    if (arms.length < 2) throw new UsageError('an experiment needs at least two --arm (the first is the control unless --control says otherwise)', 'experiment');
    const guardrails = ctx.option('guardrails');
    const timeLimitMs = spanMs(ctx.option('time-limit'));
    const timeScale = timeScaleOption(ctx.option('time-scale'));
    const body = {
      arms,
      primaryMetric: ctx.required('metric'),
      ...(ctx.option('feature') ? { feature: ctx.option('feature') } : {}),
      ...(ctx.option('control') ? { control: ctx.option('control') } : {}),
      ...(ctx.option('channel') ? { channel: ctx.option('channel') } : {}),
      ...(guardrails === undefined ? {} : { guardrails: guardrails.split(',').filter((g) => g !== '') }),
      ...(timeLimitMs === undefined ? {} : { timeLimitMs }),
      ...(timeScale === undefined ? {} : { timeScale }),
      plan: planOption(ctx.option('plan')),
      ...(ctx.flag('supersede') ? { supersede: true } : {}),
      ...(ctx.flag('force') ? { force: true } : {}),
    };
    const started = await ctx.client.post<{ id: string; workflowId: string; warnings: string[] }>(`/v1/apps/${ctx.pathArg(0, 'appId')}/experiments`, body);
    ctx.show(started, () => [
      `started experiment ${started.id} (workflow ${started.workflowId})`,
      ...started.warnings.map((w) => `warning: ${w}`),
      `results: rampart experiment results ${started.id}`,
    ]);
  },
  'experiment results': (ctx) => showResults(ctx, `/v1/releases/${ctx.pathArg(0, 'releaseId')}/experiment`),
  'experiment stop-arm': (ctx) => {
    const [arm] = ctx.list('arm');
    if (arm === undefined) throw new UsageError('missing --arm <key>: the arm to stop', 'experiment');
    return showResults(ctx, `/v1/releases/${ctx.pathArg(0, 'releaseId')}/stop-arm`, { arm, reason: ctx.required('reason') });
  },
  'experiment promote-arm': (ctx) => {
    const [arm] = ctx.list('arm');
    return showResults(ctx, `/v1/releases/${ctx.pathArg(0, 'releaseId')}/promote-arm`, { ...(arm ? { arm } : {}), reason: ctx.required('reason') });
  },
};
