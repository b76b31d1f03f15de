import { metricGuardrailLabel, type MetricGuardrail } from '../domain/experiment';
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

/**
 * `--guardrails crash_free_sessions,session_duration,feature_use:checkout`; `--max-drop 5` lets the
 * session_duration and feature_use guardrails allow a 5 % drop before they stop an arm.
 */
export function parseGuardrails(text: string, maxDropText: string | undefined): Array<string | { metric: string; feature?: string; maxDropPercent: number }> {
  const maxDropPercent = maxDropText === undefined ? 0 : Number(maxDropText);
  if (!(maxDropPercent >= 0 && maxDropPercent <= 100)) throw new UsageError(`--max-drop takes a percentage from 0 to 100, e.g. 5; got "${maxDropText}"`, 'experiment');
  return text
    .split(',')
    .filter((g) => g !== '')
    .map((item) => {
      const [metric = '', feature] = item.split(':');
      if (metric !== 'session_duration' && metric !== 'feature_use') return item;
      return { metric, ...(feature === undefined ? {} : { feature }), maxDropPercent };
    });
}

const percent = (x: number | null | undefined) => (x === null || x === undefined ? '?' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`);

function armValue(arm: ArmResult, metric: string): string {
  if (arm.value === null) return '—';
  if (metric === 'session_duration') return formatDuration(arm.value);
  return metric === 'feature_use' ? `${arm.value.toFixed(3)} uses/session` : `${(arm.value * 100).toFixed(1)} %`;
}

function guardrailsLine(results: ExperimentResults): string {
  const metric = results.metricGuardrails.map((g: MetricGuardrail) => `${metricGuardrailLabel(g)}${g.maxDrop > 0 ? ` (may drop ${(g.maxDrop * 100).toFixed(1)} %)` : ''}`);
  return [...results.guardrails, ...metric].join(', ') || 'none';
}

/** The arm's gate guardrail verdict, then each metric guardrail's change against the control. */
function armGuardrails(arm: ArmResult): string {
  if (arm.stopped) return `stopped: ${arm.stoppedReason ?? 'by command'}`;
  const metrics = arm.metricGuardrails.map((g) => {
    const name = metricGuardrailLabel({ metric: g.metric, ...(g.feature === null ? {} : { feature: g.feature }) });
    return `${name} ${percent(g.relative.estimate)} [${percent(g.relative.lower)}, ${percent(g.relative.upper)}]${g.harmful ? ' HARMFUL' : ''}`;
  });
  return [arm.guardrail.verdict ?? '—', ...metrics].join('; ');
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
    `primary ${metric}${results.primary.feature === undefined ? '' : ` of ${results.primary.feature}`} (${results.primary.direction} is better), control ${results.control}, α ${results.alpha}; guardrails ${guardrailsLine(results)}`,
  ];
  const rows = results.arms.map((arm) => [
    arm.key,
    arm.version ?? 'baseline',
    arm.installMode,
    String(arm.sample),
    armValue(arm, metric),
    armComparison(arm),
    armGuardrails(arm),
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
      ...(guardrails === undefined ? {} : { guardrails: parseGuardrails(guardrails, ctx.option('max-drop')) }),
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
