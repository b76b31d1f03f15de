import semver from 'semver';
import { z } from 'zod';
import { ROLES } from '../../domain/access';
import { APP_ID_PATTERN } from '../../domain/app';
import { BPS_SCALE } from '../../domain/bucketing';
import { PLATFORMS } from '../../domain/bundle';
import { ADOPTION_WINDOW_HOURS } from '../../domain/device-story';
import { PLAN_LIMITS, PLAN_PRESETS } from '../../domain/plan';
import { PRODUCTION_CHANNEL } from '../../domain/channel';
import { COMPARATIVE_METRICS, GATE_METRICS, TRIPWIRE_METRICS } from '../../domain/gates/gate-spec';
import { isValidNativeRange } from '../../domain/native-compat';
import { RELEASE_STATUSES } from '../../domain/release';
import { COMMAND_LIMITS } from '../../domain/rollout-machine';
import { ROLLOUT_EVENTS } from '../../domain/rollout-view';
import { json, multilineText, plainText, text } from '../http/text';

export const appIdSchema = text().max(200).regex(APP_ID_PATTERN, 'use a reverse-DNS id such as com.example.app');
export const channelNameSchema = text()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-", at most 63 characters');
export const segmentKeySchema = text().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, "_" and "-"');
export const bundleVersionSchema = text()
  .max(100)
  .refine((v) => semver.valid(v) === v, 'must be a semantic version such as 1.4.2');
const durationMs = z.number().int().min(0).max(PLAN_LIMITS.maxSoakMs);

const platformsSchema = z
  .array(z.enum(PLATFORMS))
  .min(1)
  .refine((p) => new Set(p).size === p.length, 'list each platform once');

export const createAppSchema = z.strictObject({
  id: appIdSchema,
  name: text().trim().min(1).max(200),
});

export const DEFAULT_BUNDLE_PLATFORMS = ['ios', 'android'] as const;

export const createBundleSchema = z.strictObject({
  version: bundleVersionSchema,
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048).refine(...plainText),
  sha256: text()
    .regex(/^[a-fA-F0-9]{64}$/, 'must be 64 hex characters')
    .transform((s) => s.toLowerCase()),
  size: z.number().int().min(1).max(2 ** 31),
  nativeRange: text().max(200).refine(isValidNativeRange, 'must be a semver range such as ">=2.1.0 <3"').default('*'),
  platforms: platformsSchema.default([...DEFAULT_BUNDLE_PLATFORMS]),
  notes: multilineText().max(4000).optional(),
  sessionKey: text().max(1024).optional(),
});

const gateSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('ratio'),
    metric: z.enum(COMPARATIVE_METRICS),
    rDetect: z.number().min(1.01).max(20).optional(),
    r0: z.number().min(1).max(2).optional(),
    minEvents: z.number().int().min(1).max(1000).optional(),
    dryRun: z.boolean().optional(),
  }),
  z.strictObject({
    kind: z.literal('tripwire'),
    metric: z.enum(TRIPWIRE_METRICS),
    pOk: z.number().gt(0).lt(1).optional(),
    pBad: z.number().gt(0).lt(1).optional(),
    dryRun: z.boolean().optional(),
  }),
  z.strictObject({
    kind: z.literal('crashRate'),
    maxRate: z.number().gt(0).lt(1).optional(),
    minDevices: z.number().int().min(1).optional(),
    dryRun: z.boolean().optional(),
  }),
  z.strictObject({
    kind: z.literal('threshold'),
    metric: z.enum(GATE_METRICS),
    maxRate: z.number().gt(0).lt(1),
    minDevices: z.number().int().min(1).optional(),
    failureLimit: z.number().int().min(1).max(100).optional(),
    dryRun: z.boolean().optional(),
  }),
]);

export const planSchema = z.strictObject({
  stages: z
    .array(
      z.strictObject({
        name: text().trim().min(1).max(100).optional(),
        segments: z.array(segmentKeySchema).min(1).max(100).optional(),
        exposureBps: z.number().int().min(1).max(BPS_SCALE),
        minSoakMs: durationMs,
        maxSoakMs: durationMs.optional(),
        checkIntervalMs: durationMs.optional(),
        gates: z.array(gateSpecSchema).max(20).optional(),
      }),
    )
    .min(1)
    .max(PLAN_LIMITS.maxStages),
  gateSettings: z
    .strictObject({
      alpha: z.number().gt(0).lt(0.5).optional(),
      reportingLagMs: durationMs.optional(),
      dryRun: z.boolean().optional(),
    })
    .optional(),
});

// A string is a preset name and an object a plan: the parser reports the issues of the option the
// input's type chose, so a plan object with a typo hears about the typo, not "Invalid input".
const presets = PLAN_PRESETS.join(', ');
const planPresetSchema = text().pipe(z.enum(PLAN_PRESETS, { error: `unknown preset; use one of ${presets} or a plan object {stages: [...]}` }));
const planFieldSchema = z.union([planPresetSchema, planSchema], { error: `must be a preset name (${presets}) or a plan object {stages: [...]}` });

export const createReleaseSchema = z.strictObject({
  version: bundleVersionSchema,
  channel: channelNameSchema.default(PRODUCTION_CHANNEL.name),
  plan: planFieldSchema.default('default'),
  timeScale: z.number().min(PLAN_LIMITS.minTimeScale).max(PLAN_LIMITS.maxTimeScale).default(1),
  supersede: z.boolean().default(false),
  force: z.boolean().default(false),
});

export const listReleasesQuerySchema = z.strictObject({
  channel: channelNameSchema.optional(),
  status: z.enum(RELEASE_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const createApiKeySchema = z.strictObject({
  name: text().trim().min(1).max(100),
  role: z.enum(ROLES),
  appIds: z.array(appIdSchema).min(1).max(1000).nullable().default(null),
});

export const commandSchema = z.strictObject({
  reason: multilineText().trim().min(1, 'say why (it goes to the audit log)').max(COMMAND_LIMITS.maxReasonLength),
});

export const createWebhookSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048).refine(...plainText),
  events: z.array(z.enum(ROLLOUT_EVENTS)).max(ROLLOUT_EVENTS.length).default([]),
});

export const createChannelSchema = z.strictObject({
  name: channelNameSchema,
  public: z.boolean().default(false),
  allowSelfAssign: z.boolean().default(false),
  platforms: platformsSchema.default([...PLATFORMS]),
});

export const updateChannelSchema = z
  .strictObject({ public: z.boolean(), allowSelfAssign: z.boolean(), platforms: platformsSchema })
  .partial()
  .refine((c) => Object.keys(c).length > 0, 'change at least one of public, allowSelfAssign, platforms');

export const deviceChannelSchema = z.strictObject({ channel: channelNameSchema });

// Rules and windows are JSON here; their structure is checked by the domain's validators, which explain every problem.
export const createSegmentSchema = z.strictObject({
  key: segmentKeySchema,
  rule: json().refine((r) => r !== undefined, 'a rule is required, e.g. {"always": true}'),
  priority: z.number().int().min(0).max(1_000_000).optional(),
  maintenanceWindows: z.array(json()).max(20).optional(),
});

export const updateSegmentSchema = z
  .strictObject({
    rule: json(),
    priority: z.number().int().min(0).max(1_000_000),
    maintenanceWindows: z.array(json()).max(20),
  })
  .partial()
  .refine((c) => Object.keys(c).length > 0, 'change at least one of rule, priority, maintenanceWindows');

const { min: minWindow, max: maxWindow, default: defaultWindow } = ADOPTION_WINDOW_HOURS;
const windowProblem = `a whole number of hours from ${minWindow} to ${maxWindow}, such as 24 or 24h`;

export const adoptionQuerySchema = z.strictObject({
  channel: channelNameSchema.optional(),
  window: text()
    .regex(/^\d{1,6}h?$/, windowProblem)
    .transform((s) => Number.parseInt(s, 10))
    .pipe(z.number().min(minWindow, windowProblem).max(maxWindow, windowProblem))
    .default(defaultWindow),
});
