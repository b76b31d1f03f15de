import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, condition, log, setHandler } from '@temporalio/workflow';
import type { CommandOrigin } from '../domain/rollout-machine';

/** How a workflow takes its commands: the rules stay in its pure machine. */
export interface CommandRules<Name extends string, C, V> {
  /** Why the command cannot be applied now, or null (also the Update's synchronous validator). */
  refuse(name: Name, command: unknown): string | null;
  /** Applies an accepted command to the workflow's state; answers the command's sequence number. */
  apply(name: Name, command: C, origin: CommandOrigin): number;
  /** True once the command with this sequence number is published and recorded. */
  settled(seq: number): boolean;
  view(): V;
  /** What the commands act on, for their descriptions ("the release", "the experiment"). */
  subject: string;
}

/**
 * Every command as an Update (answers with the new state once devices see it, or a refusal) and as
 * a Signal of the same name (fire and forget, same rules; a refused one is logged).
 */
export function setCommandHandlers<Name extends string, C, V>(
  names: readonly Name[],
  updates: Record<Name, UpdateDefinition<V, [C]>>,
  signals: Record<Name, SignalDefinition<[C]>>,
  rules: CommandRules<Name, C, V>,
): void {
  for (const name of names) {
    const update: UpdateDefinition<V, [C]> = updates[name];
    const signal: SignalDefinition<[C]> = signals[name];
    setHandler(
      update,
      async (command: C) => {
        const seq = rules.apply(name, command, 'update');
        await condition(() => rules.settled(seq));
        return rules.view();
      },
      {
        validator: (command: C) => {
          const refusal = rules.refuse(name, command);
          if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'CommandRefused');
        },
        description: `${name} ${rules.subject}; answers with its new state once devices see it`,
      },
    );
    setHandler(
      signal,
      (command: C) => {
        const refusal = rules.refuse(name, command);
        if (refusal) {
          log.warn(`signal ${name} refused: ${refusal}`, { command });
          return;
        }
        rules.apply(name, command, 'signal');
      },
      { description: `${name} ${rules.subject} (fire and forget; same rules as the update)` },
    );
  }
}
