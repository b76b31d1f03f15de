import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Command, CommandName } from '../domain/rollout-machine';
import type { ReleaseView } from '../domain/rollout-view';

/*
 * The public message surface of a release workflow. Every command exists as an Update (the API
 * gets the new state or a clear refusal) and as a Signal of the same name (so on-call can use
 * `temporal workflow signal --name pause --input '{"actor":"…","reason":"…"}'`).
 */

export const stateQuery = defineQuery<ReleaseView>('state');

export const commandUpdates = {
  pause: defineUpdate<ReleaseView, [Command]>('pause'),
  resume: defineUpdate<ReleaseView, [Command]>('resume'),
  rollback: defineUpdate<ReleaseView, [Command]>('rollback'),
  promote: defineUpdate<ReleaseView, [Command]>('promote'),
  promoteFull: defineUpdate<ReleaseView, [Command]>('promoteFull'),
  abort: defineUpdate<ReleaseView, [Command]>('abort'),
} satisfies Record<CommandName, unknown>;

export const commandSignals = {
  pause: defineSignal<[Command]>('pause'),
  resume: defineSignal<[Command]>('resume'),
  rollback: defineSignal<[Command]>('rollback'),
  promote: defineSignal<[Command]>('promote'),
  promoteFull: defineSignal<[Command]>('promoteFull'),
  abort: defineSignal<[Command]>('abort'),
} satisfies Record<CommandName, unknown>;
