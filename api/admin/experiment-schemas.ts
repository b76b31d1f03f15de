import { z } from 'zod';
import { PRODUCTION_CHANNEL } from '../../domain/channel';
import {
  ARM_KEY_PATTERN,
  EXPERIMENT_DEFAULTS,
  EXPERIMENT_LIMITS,
  GUARDRAILS,
  INSTALL_MODES,
  PRIMARY_METRICS,
  experimentProblems,
  type ExperimentDefinition,
} from '../../domain/experiment';
import { MAX_FEATURE_NAME_LENGTH, OTHER_FEATURE } from '../../domain/insight';
import { PLAN_LIMITS } from '../../domain/plan';
import { text } from '../http/text';
import { bundleVersionSchema, channelNameSchema, commandSchema, notificationsFieldSchema, planFieldSchema } from './schemas';

const armKeySchema = text()
  .max(EXPERIMENT_LIMITS.maxArmKeyLength)
  .regex(ARM_KEY_PATTERN, 'lower-case letters, digits, "_" and "-", such as "control" or "b"');

const armSchema = z.strictObject({
  key: armKeySchema,
  /** Omitted or null: the arm runs the channel's baseline (what devices run outside the experiment). */
  version: bundleVersionSchema.nullable().default(null),
  weight: z.number().int().min(1).max(EXPERIMENT_LIMITS.maxWeight).default(1),
  installMode: z.enum(INSTALL_MODES, `one of ${INSTALL_MODES.join(', ')}`).default('next_launch'),
});

/** `timeScale` multiplies the plan's durations and the time limit alike, so a whole experiment can run in seconds. */
export const createExperimentSchema = z
  .strictObject({
    channel: channelNameSchema.default(PRODUCTION_CHANNEL.name),
    arms: z.array(armSchema).min(EXPERIMENT_LIMITS.minArms).max(EXPERIMENT_LIMITS.maxArms),
    /** Omitted: the first arm. */
    control: armKeySchema.optional(),
    primaryMetric: z.enum(PRIMARY_METRICS, `one of ${PRIMARY_METRICS.join(', ')}`),
    /** The feature name `feature_use` counts (as devices report it in `feature_used`); required by it, refused by the others. */
    feature: text().min(1).max(MAX_FEATURE_NAME_LENGTH).optional(),
    /** Which way is better; every primary metric is "higher is better" unless said otherwise. */
    direction: z.enum(['higher', 'lower']).default('higher'),
    guardrails: z.array(z.enum(GUARDRAILS, `one of ${GUARDRAILS.join(', ')}`)).max(GUARDRAILS.length).default([...GUARDRAILS]),
    plan: planFieldSchema.default('default'),
    timeScale: z.number().min(PLAN_LIMITS.minTimeScale).max(PLAN_LIMITS.maxTimeScale).default(1),
    timeLimitMs: z.number().int().min(EXPERIMENT_LIMITS.minTimeLimitMs).max(EXPERIMENT_LIMITS.maxTimeLimitMs).default(EXPERIMENT_DEFAULTS.timeLimitMs),
    alpha: z.number().gt(0).max(0.2).default(EXPERIMENT_DEFAULTS.alpha),
    minSamplePerArm: z.number().int().min(2).max(10_000_000).default(EXPERIMENT_DEFAULTS.minSamplePerArm),
    supersede: z.boolean().default(false),
    force: z.boolean().default(false),
    /** Told to each segment's devices in the experiment when a stage opens for them. */
    notifications: notificationsFieldSchema,
  })
  .transform((body, ctx) => {
    const definition: ExperimentDefinition = {
      arms: body.arms,
      control: body.control ?? body.arms[0]!.key,
      primary: { metric: body.primaryMetric, direction: body.direction, ...(body.feature === undefined ? {} : { feature: body.feature }) },
      guardrails: [...new Set(body.guardrails)],
      timeLimitMs: Math.max(EXPERIMENT_LIMITS.minTimeLimitMs, Math.round(body.timeLimitMs * body.timeScale)),
      alpha: body.alpha,
      minSamplePerArm: body.minSamplePerArm,
    };
    if (body.primaryMetric === 'feature_use' && body.feature === undefined) {
      ctx.addIssue({ code: 'custom', path: ['feature'], message: 'feature_use counts one feature: name it, as devices report it in feature_used events' });
    } else if (body.primaryMetric !== 'feature_use' && body.feature !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['feature'], message: `feature goes with primaryMetric feature_use only, not ${body.primaryMetric}` });
    } else if (body.feature === OTHER_FEATURE) {
      ctx.addIssue({ code: 'custom', path: ['feature'], message: `${OTHER_FEATURE} counts every feature an app does not keep by name; name one feature` });
    }
    for (const problem of experimentProblems(definition)) ctx.addIssue({ code: 'custom', path: problem.path.split('.'), message: problem.message });
    // The release's bundle: the first treatment arm with one of its own (an update-timing control has one too).
    const version = [...definition.arms.filter((a) => a.key !== definition.control), ...definition.arms].find((a) => a.version !== null)?.version;
    if (version === undefined || version === null) {
      ctx.addIssue({ code: 'custom', path: ['arms'], message: 'every arm runs the baseline; give at least one arm a bundle version to test' });
      return z.NEVER;
    }
    if (typeof body.plan !== 'string' && body.plan.stages.some((s) => s.gates !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['plan'], message: "an experiment's stages take no gates: its guardrails watch every arm" });
    }
    return { ...body, version, definition };
  });

export const stopArmSchema = commandSchema.extend({ arm: armKeySchema });

/** Omitted arm: the declared winner. */
export const promoteArmSchema = commandSchema.extend({ arm: armKeySchema.optional() });
