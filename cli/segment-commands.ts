import type { MaintenanceWindow } from '../domain/maintenance-window';
import { jsonOption, type Command, type CommandContext } from './command-context';

interface Segment {
  key: string;
  rule: unknown;
  priority: number;
  maintenanceWindows: MaintenanceWindow[];
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const windowText = (w: MaintenanceWindow) => `${w.days.map((d) => DAYS[d] ?? String(d)).join(',')} ${w.start}-${w.end} ${w.timeZone}`;

const segmentLines = (s: Segment) => [
  `${s.key.padEnd(16)} priority ${String(s.priority).padEnd(6)} ${JSON.stringify(s.rule)}`,
  ...s.maintenanceWindows.map((w) => `${''.padEnd(16)} window ${windowText(w)}`),
];

/** The segment fields given on the command line; a repeated --window adds one window each. */
function definition(ctx: CommandContext): Partial<Omit<Segment, 'key'>> {
  const rule = ctx.option('rule');
  const priority = ctx.option('priority');
  const windows = ctx.list('window').map((w) => jsonOption(w, 'window'));
  return {
    ...(rule === undefined ? {} : { rule: jsonOption(rule, 'rule') }),
    ...(priority === undefined ? {} : { priority: Number(priority) }),
    ...(windows.length > 0 ? { maintenanceWindows: windows as MaintenanceWindow[] } : {}),
  };
}

/** `segments …`. */
export const segmentCommands: Record<string, Command> = {
  'segments list': async (ctx) => {
    const answer = await ctx.client.get<{ segments: Segment[] }>(`/v1/apps/${ctx.pathArg(0, 'appId')}/segments`);
    ctx.show(answer, () => answer.segments.flatMap(segmentLines));
  },
  'segments create': async (ctx) => {
    ctx.required('rule');
    const segment = await ctx.client.post<Segment>(`/v1/apps/${ctx.pathArg(0, 'appId')}/segments`, { key: ctx.arg(1, 'key'), ...definition(ctx) });
    ctx.show(segment, () => [`created segment ${segment.key}`, ...segmentLines(segment)]);
  },
  'segments update': async (ctx) => {
    const segment = await ctx.client.put<Segment>(`/v1/apps/${ctx.pathArg(0, 'appId')}/segments/${ctx.pathArg(1, 'key')}`, definition(ctx));
    ctx.show(segment, () => [`updated segment ${segment.key}`, ...segmentLines(segment)]);
  },
  'segments delete': async (ctx) => {
    const key = ctx.arg(1, 'key');
    await ctx.client.delete(`/v1/apps/${ctx.pathArg(0, 'appId')}/segments/${encodeURIComponent(key)}`);
    if (!ctx.json) ctx.out.write(`deleted segment ${key}\n`);
  },
};
