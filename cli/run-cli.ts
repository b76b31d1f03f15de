import { parseArgs } from 'node:util';
import { appCommands } from './app-commands';
import { auditCommands } from './audit-commands';
import { channelCommands } from './channel-commands';
import { deviceCommands } from './device-commands';
import { createCommandContext, UsageError, type Command, type Output } from './command-context';
import type { RampartClient } from './rampart-client';
import { releaseCommands } from './release-commands';
import { experimentCommands } from './experiment-commands';
import { segmentCommands } from './segment-commands';
import { keyCommands } from './key-commands';
import { isCommandGroup, usage } from './usage';
import { webhookCommands } from './webhook-commands';

const COMMANDS: Record<string, Command> = { ...appCommands, ...deviceCommands, ...channelCommands, ...segmentCommands, ...webhookCommands, ...releaseCommands, ...experimentCommands, ...keyCommands, ...auditCommands };

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  name: { type: 'string' },
  url: { type: 'string' },
  sha256: { type: 'string' },
  size: { type: 'string' },
  'native-range': { type: 'string' },
  platforms: { type: 'string' },
  expo: { type: 'string' },
  'runtime-version': { type: 'string' },
  'base-url': { type: 'string' },
  public: { type: 'boolean' },
  'self-assign': { type: 'boolean' },
  rule: { type: 'string' },
  priority: { type: 'string' },
  window: { type: 'string', multiple: true },
  events: { type: 'string' },
  channel: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  plan: { type: 'string' },
  'time-scale': { type: 'string' },
  supersede: { type: 'boolean' },
  force: { type: 'boolean' },
  'bundle-for': { type: 'string', multiple: true },
  notify: { type: 'string', multiple: true },
  reason: { type: 'string' },
  role: { type: 'string' },
  apps: { type: 'string' },
  expires: { type: 'string' },
  app: { type: 'string' },
  actor: { type: 'string' },
  action: { type: 'string' },
  since: { type: 'string' },
  step: { type: 'string' },
  arm: { type: 'string', multiple: true },
  metric: { type: 'string' },
  control: { type: 'string' },
  guardrails: { type: 'string' },
  'max-drop': { type: 'string' },
  'time-limit': { type: 'string' },
  feature: { type: 'string' },
} as const;

function parse(args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: true, allowNegative: true, options: OPTIONS });
  } catch (err) {
    // node:util reports unknown or malformed options as TypeErrors; they are usage mistakes.
    const group = args.find((a) => !a.startsWith('-'));
    throw new UsageError(err instanceof Error ? err.message : String(err), isCommandGroup(group) ? group : undefined);
  }
}

// A group that is a command on its own (`audit`) takes no action word.
function lookup(group: string, action: string | undefined): Command | undefined {
  if (group in COMMANDS) return action === undefined ? COMMANDS[group] : undefined;
  return COMMANDS[`${group} ${action ?? ''}`];
}

/**
 * Runs one command line. `connect` is called only when a command needs the API, so help works
 * without a key. `--help` writes the usage to `out`; mistakes throw UsageError.
 */
export async function runCli(args: string[], connect: () => RampartClient, out: Output): Promise<void> {
  const { positionals, values } = parse(args);
  const [group, action, ...rest] = positionals;
  if (values.help || group === 'help') {
    out.write(usage(group === 'help' ? action : group));
    return;
  }
  if (group === undefined) throw new UsageError('');
  const command = lookup(group, action);
  if (!command) {
    throw new UsageError(action === undefined && isCommandGroup(group) ? `"${group}" needs a command` : `unknown command "${positionals.join(' ')}"`, isCommandGroup(group) ? group : undefined);
  }
  try {
    await command(createCommandContext(group, rest, values, connect(), out));
  } catch (err) {
    // A mistake found inside a command (a malformed --rule, say) is best explained by its group's usage.
    if (err instanceof UsageError && err.group === undefined) throw new UsageError(err.message, group);
    throw err;
  }
}
