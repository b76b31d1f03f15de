import { z } from 'zod';
import { PRODUCTION_CHANNEL } from '../../domain/channel';
import {
  ARM_KEY_PATTERN,
  EXPERIMENT_DEFAULTS,
  EXPERIMENT_LIMITS,
  GUARDRAILS,
  INSTALL_MODES,
  METRIC_GUARDRAILS,
  PRIMARY_METRICS,
  experimentProblems,
  metricGuardrailLabel,
  type ExperimentDefinition,
  type Guardrail,
  type MetricGuardrail,
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

const featureNameSchema = text().min(1).max(MAX_FEATURE_NAME_LENGTH);

/** Why `other` cannot be judged or guarded: it mixes every name the app does not keep. */
const MIXED_FEATURES = `${OTHER_FEATURE} counts every feature an app does not keep by name; name one feature`;

const GUARDRAIL_NAMES = [...GUARDRAILS, ...METRIC_GUARDRAILS] as const;

/** A metric guardrail with its allowance; a bare name is the same with no allowance. */
const metricGuardrailSchema = z.strictObject({
  metric: z.enum(METRIC_GUARDRAILS, `one of ${METRIC_GUARDRAILS.join(', ')}`),
  feature: featureNameSchema.optional(),
  /** How much lower than the control (percent) the arm may take the metric before it is stopped. */
  maxDropPercent: z.number().min(0).max(100).default(0),
});

const guardrailSchema = z.union([z.enum(GUARDRAIL_NAMES, `one of ${GUARDRAIL_NAMES.join(', ')}`), metricGuardrailSchema], {
  error: `a guardrail is one of ${GUARDRAIL_NAMES.join(', ')}, or {"metric": "session_duration" | "feature_use", "feature"?: "<name>", "maxDropPercent"?: <0–100>}`,
});

type GuardrailInput = z.infer<typeof guardrailSchema>;

/** Splits the guardrails into the gate ones and the metric ones, with what makes a metric guardrail unusable. */
function splitGuardrails(input: GuardrailInput[]): { guardrails: Guardrail[]; metricGuardrails: MetricGuardrail[]; problems: Array<{ index: number; message: string }> } {
  const guardrails = new Set<Guardrail>();
  const metricGuardrails: MetricGuardrail[] = [];
  const problems: Array<{ index: number; message: string }> = [];
  input.forEach((item, index) => {
    if (typeof item === 'string' && (GUARDRAILS as readonly string[]).includes(item)) {
      guardrails.add(item as Guardrail);
      return;
    }
    const spec = typeof item === 'string' ? { metric: item as MetricGuardrail['metric'], maxDropPercent: 0 } : item;
    const feature = 'feature' in spec ? spec.feature : undefined;
    if (spec.metric === 'feature_use' && feature === undefined) {
      problems.push({ index, message: 'feature_use guards one feature: {"metric": "feature_use", "feature": "<name as devices report it>"}' });
    } else if (spec.metric !== 'feature_use' && feature !== undefined) {
      problems.push({ index, message: `feature goes with the feature_use guardrail only, not ${spec.metric}` });
    } else if (feature === OTHER_FEATURE) {
      problems.push({ index, message: MIXED_FEATURES });
    }
    const guardrail: MetricGuardrail = { metric: spec.metric, ...(feature === undefined ? {} : { feature }), maxDrop: spec.maxDropPercent / 100 };
    const label = metricGuardrailLabel(guardrail);
    if (metricGuardrails.some((g) => metricGuardrailLabel(g) === label)) {
      problems.push({ index, message: `guardrail ${label} is named twice; keep one, with the drop it may cause` });
    }
    metricGuardrails.push(guardrail);
  });
  return { guardrails: [...guardrails], metricGuardrails, problems };
}

function primaryFeatureProblem(metric: string, feature: string | undefined): string | null {
  if (metric === 'feature_use' && feature === undefined) return 'feature_use counts one feature: name it, as devices report it in feature_used events';
  if (metric !== 'feature_use' && feature !== undefined) return `feature goes with primaryMetric feature_use only, not ${metric}`;
  if (feature === OTHER_FEATURE) return MIXED_FEATURES;
  return null;
}

/** `timeScale` multiplies the plan's durations and the time limit alike, so a whole experiment can run in seconds. */
export const createExperimentSchema = z
  .strictObject({
    channel: channelNameSchema.default(PRODUCTION_CHANNEL.name),
    arms: z.array(armSchema).min(EXPERIMENT_LIMITS.minArms).max(EXPERIMENT_LIMITS.maxArms),
    /** Omitted: the first arm. */
    control: armKeySchema.optional(),
    primaryMetric: z.enum(PRIMARY_METRICS, `one of ${PRIMARY_METRICS.join(', ')}`),
    /** The feature name `feature_use` counts (as devices report it in `feature_used`); required by it, refused by the others. */
    feature: featureNameSchema.optional(),
    /** Which way is better; every primary metric is "higher is better" unless said otherwise. */
    direction: z.enum(['higher', 'lower']).default('higher'),
    /** Gate guardrails by name; metric guardrails by name or with a feature and an allowance. */
    guardrails: z
      .array(guardrailSchema)
      .max(GUARDRAILS.length + EXPERIMENT_LIMITS.maxMetricGuardrails)
      .default([...GUARDRAILS]),
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
    const { guardrails, metricGuardrails, problems } = splitGuardrails(body.guardrails);
    for (const problem of problems) ctx.addIssue({ code: 'custom', path: ['guardrails', problem.index], message: problem.message });
    if (metricGuardrails.length > EXPERIMENT_LIMITS.maxMetricGuardrails) {
      ctx.addIssue({ code: 'custom', path: ['guardrails'], message: `at most ${EXPERIMENT_LIMITS.maxMetricGuardrails} session_duration and feature_use guardrails` });
    }
    const definition: ExperimentDefinition = {
      arms: body.arms,
      control: body.control ?? body.arms[0]!.key,
      primary: { metric: body.primaryMetric, direction: body.direction, ...(body.feature === undefined ? {} : { feature: body.feature }) },
      guardrails,
      ...(metricGuardrails.length === 0 ? {} : { metricGuardrails }),
      timeLimitMs: Math.max(EXPERIMENT_LIMITS.minTimeLimitMs, Math.round(body.timeLimitMs * body.timeScale)),
      alpha: body.alpha,
      minSamplePerArm: body.minSamplePerArm,
    };
    const featureProblem = primaryFeatureProblem(body.primaryMetric, body.feature);
    if (featureProblem !== null) ctx.addIssue({ code: 'custom', path: ['feature'], message: featureProblem });
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
