import { readFileSync } from 'node:fs';
import type { RampartClient } from './rampart-client';

/** A mistake in the command line: main prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command group whose usage helps most, when known. */
    readonly group?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Output {
  write(text: string): void;
  /** Whether stdout is a terminal, which may be redrawn in place. */
  tty: boolean;
  columns?: number;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  client: RampartClient;
  out: Output;
  json: boolean;
  /** The n-th argument after `<group> <action>`. */
  arg(index: number, name: string): string;
  /** The same, URL-encoded for a path. */
  pathArg(index: number, name: string): string;
  /** A string option, or undefined when absent. */
  option(name: string): string | undefined;
  required(name: string): string;
  /** A boolean flag: true, false (`--no-<name>`) or undefined when absent. */
  flag(name: string): boolean | undefined;
  /** Every value of a repeatable option. */
  list(name: string): string[];
  /** Prints the API's answer as is with --json, else the human lines. */
  show(answer: unknown, lines: () => string[]): void;
}

export type Command = (ctx: CommandContext) => Promise<void>;

export function createCommandContext(group: string, args: string[], values: OptionValues, client: RampartClient, out: Output): CommandContext {
  const json = values.json === true;
  const option = (name: string) => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const arg = (index: number, name: string) => {
    const value = args[index];
    if (!value) throw new UsageError(`missing <${name}>`, group);
    return value;
  };
  return {
    client,
    out,
    json,
    arg,
    pathArg: (index, name) => encodeURIComponent(arg(index, name)),
    option,
    required(name) {
      const value = option(name);
      if (!value) throw new UsageError(`missing --${name}`, group);
      return value;
    },
    flag(name) {
      const value = values[name];
      return typeof value === 'boolean' ? value : undefined;
    },
    list(name) {
      const value = values[name];
      return Array.isArray(value) ? value : [];
    },
    show(answer, lines) {
      out.write(json ? `${JSON.stringify(answer, null, 2)}\n` : lines().map((line) => `${line}\n`).join(''));
    },
  };
}

/** A JSON option given inline or as `@file.json`. */
export function jsonOption(text: string, name: string): unknown {
  let source = text;
  if (text.startsWith('@')) {
    try {
      source = readFileSync(text.slice(1), 'utf8');
    } catch (err) {
      throw new UsageError(`--${name}: cannot read ${text.slice(1)} (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  try {
    return JSON.parse(source) as unknown;
  } catch (err) {
    throw new UsageError(`--${name} must be JSON or @file.json: ${err instanceof Error ? err.message : String(err)}`);
  }
}
