import type { QueryDefinition, SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { EXPERIMENT_COMMANDS, type ArmCommand, type ExperimentCommandName, type ExperimentView } from '../domain/experiment-machine';

/*
 * The public message surface of an experiment workflow: a release's (`state`, `pause`, `resume`,
 * `rollback`, `promote`, `abort`, …) plus `stopArm` and `promoteArm`, each as an Update and as a
 * Signal of the same name, e.g. `temporal workflow signal --name stopArm --input '{"arm":"c","actor":"…","reason":"…"}'`.
 */

export const experimentStateQuery: QueryDefinition<ExperimentView> = defineQuery<ExperimentView>('state');

export const experimentUpdates = Object.fromEntries(EXPERIMENT_COMMANDS.map((name) => [name, defineUpdate<ExperimentView, [ArmCommand]>(name)])) as Record<
  ExperimentCommandName,
  UpdateDefinition<ExperimentView, [ArmCommand]>
>;

export const experimentSignals = Object.fromEntries(EXPERIMENT_COMMANDS.map((name) => [name, defineSignal<[ArmCommand]>(name)])) as Record<
  ExperimentCommandName,
  SignalDefinition<[ArmCommand]>
>;
