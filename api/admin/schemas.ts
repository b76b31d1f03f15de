import semver from 'semver';
import { z } from 'zod';
import { ROLES } from '../../domain/access';
import { APP_ID_PATTERN } from '../../domain/app';
import { POLICY_ACTIONS } from '../../domain/app-policy';
import { BPS_SCALE } from '../../domain/bucketing';
import { PLATFORMS } from '../../domain/bundle';
import { ADOPTION_WINDOW_HOURS } from '../../domain/device-story';
import { PLAN_LIMITS, PLAN_PRESETS } from '../../domain/plan';
import { PRODUCTION_CHANNEL } from '../../domain/channel';
import { COMPARATIVE_METRICS, GATE_METRICS, TRIPWIRE_METRICS } from '../../domain/gates/gate-spec';
import { isValidNativeRange } from '../../domain/native-compat';
import { MAX_FEATURE_NAME_LENGTH, MAX_INSIGHT_FEATURES, MAX_INSIGHT_POINTS, ROLLUP_COHORTS, ROLLUP_STEPS, ROLLUP_STEP_NAMES } from '../../domain/insight';
import { PERSONALIZATION_LIMITS } from '../../domain/personalization';
import { RELEASE_STATUSES } from '../../domain/release';
import { COMMAND_LIMITS } from '../../domain/rollout-machine';
import { ROLLOUT_EVENTS } from '../../domain/rollout-view';
import { NOTIFICATION_EVENT, NOTIFICATION_LIMITS } from '../../domain/segment-notification';
import { DAY_MS } from '../../domain/time';
import { timeZoneProblem } from '../../domain/maintenance-window';
import { json, multilineText, plainText, text } from '../http/text';

/** An IANA time zone name, as devices and apps give it. */
export function timeZoneSchema() {
  return text()
    .max(100)
    .superRefine((zone, ctx) => {
      const problem = timeZoneProblem(zone);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    });
}

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
  allowHttpBundles: z.boolean().default(false),
  /** The zone quiet hours are judged in for devices that report none. */
  defaultTimeZone: timeZoneSchema().default('UTC'),
});

export const DEFAULT_BUNDLE_PLATFORMS = ['ios', 'android'] as const;

const MAX_SIGNATURE_BYTES = 1024;

export const createBundleSchema = z
  .strictObject({
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
  // Capgo's RSA-encrypted checksum (hex in V3, base64 in V2): opaque, only with the session key.
  checksum: z.string().regex(/^[A-Za-z0-9+/=_-]{1,1024}$/, 'must be the encrypted checksum in hex or base64, at most 1024 characters').optional(),
  signature: z
    .string()
    .regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'must be base64')
    .refine((s) => Buffer.from(s, 'base64').length <= MAX_SIGNATURE_BYTES, `must decode to at most ${MAX_SIGNATURE_BYTES} bytes`)
    .optional(),
  })
  .refine((b) => b.checksum === undefined || b.sessionKey !== undefined, {
    path: ['checksum'],
    message: 'an encrypted checksum needs the sessionKey of the encrypted bundle; plain bundles carry sha256 only',
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
export const planFieldSchema = z.union([planPresetSchema, planSchema], { error: `must be a preset name (${presets}) or a plan object {stages: [...]}` });

const localTimeSchema = text().regex(/^([01]\d|2[0-3]):([0-5]\d)$/, 'must be a local time HH:MM from 00:00 to 23:59');
const { maxTitleLength, maxBodyLength, maxDataKeys, maxDataValueLength } = NOTIFICATION_LIMITS;

const notificationSchema = z.strictObject({
  segment: segmentKeySchema,
  message: z
    .strictObject({
      title: text().trim().min(1).max(maxTitleLength).optional(),
      body: multilineText().trim().min(1).max(maxBodyLength).optional(),
      data: z
        .record(text().min(1).max(64), z.union([text().max(maxDataValueLength), z.number(), z.boolean()]))
        .refine((d) => Object.keys(d).length <= maxDataKeys, `at most ${maxDataKeys} data keys`)
        .optional(),
    })
    .refine((m) => m.title !== undefined || m.body !== undefined || m.data !== undefined, 'give a title, a body or data for the relay'),
  quietHours: z
    .strictObject({ start: localTimeSchema, end: localTimeSchema })
    .refine((q) => q.start !== q.end, 'start and end must differ (quiet hours from start to end, local time)')
    .optional(),
});

/** A release's or experiment's segment notifications, as the release service takes them. */
export const notificationsFieldSchema = z
  .array(notificationSchema)
  .max(NOTIFICATION_LIMITS.maxPerRelease)
  .default([])
  .transform((list) => list.map((n) => ({ segment: n.segment, message: n.message, quietHours: n.quietHours ?? null })));

export const createReleaseSchema = z.strictObject({
  version: bundleVersionSchema,
  channel: channelNameSchema.default(PRODUCTION_CHANNEL.name),
  plan: planFieldSchema.default('default'),
  timeScale: z.number().min(PLAN_LIMITS.minTimeScale).max(PLAN_LIMITS.maxTimeScale).default(1),
  supersede: z.boolean().default(false),
  force: z.boolean().default(false),
  /** Personalization: segment → the version its devices get instead of `version`. */
  segmentBundles: z
    .record(segmentKeySchema, bundleVersionSchema)
    .refine((m) => Object.keys(m).length <= PERSONALIZATION_LIMITS.maxMappings, `at most ${PERSONALIZATION_LIMITS.maxMappings} segments`)
    .default({}),
  notifications: notificationsFieldSchema,
});

export const listReleasesQuerySchema = z.strictObject({
  channel: channelNameSchema.optional(),
  status: z.enum(RELEASE_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const instant = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

/** `from`/`to` default to the last 24 hours; the number of buckets per series is capped. */
export const insightsQuerySchema = z
  .strictObject({
    // Any string: the service knows the release's segments and names them when this is not one.
    segment: z.string().min(1).max(100).optional(),
    cohort: z.enum(ROLLUP_COHORTS, `one of ${ROLLUP_COHORTS.join(', ')}`).optional(),
    step: z.enum(ROLLUP_STEP_NAMES, `one of ${ROLLUP_STEP_NAMES.join(', ')}`).default('1h'),
    from: instant.optional(),
    to: instant.optional(),
    // Repeated (`feature=search&feature=checkout`): names may hold commas.
    feature: z
      .union([text().min(1).max(MAX_FEATURE_NAME_LENGTH), z.array(text().min(1).max(MAX_FEATURE_NAME_LENGTH))])
      .transform((f) => [...new Set(Array.isArray(f) ? f : [f])])
      .pipe(z.array(z.string()).max(MAX_INSIGHT_FEATURES, `at most ${MAX_INSIGHT_FEATURES} feature names`))
      .optional(),
  })
  .transform(({ from, to, feature, ...rest }) => {
    const end = to ?? Date.now();
    return { ...rest, to: end, from: from ?? end - DAY_MS, ...(feature === undefined ? {} : { features: feature }) };
  })
  .check((ctx) => {
    const { from, to, step } = ctx.value;
    if (from > to) {
      ctx.issues.push({ code: 'custom', input: ctx.value, path: ['from'], message: 'must not be after to' });
      return;
    }
    const points = Math.ceil(to / ROLLUP_STEPS[step]) - Math.floor(from / ROLLUP_STEPS[step]);
    if (points > MAX_INSIGHT_POINTS) {
      const coarser = step === '5m' ? 'use step=1h or a shorter range' : 'use a shorter range';
      ctx.issues.push({ code: 'custom', input: ctx.value, path: ['from'], message: `${points} buckets of ${step}; at most ${MAX_INSIGHT_POINTS} per series: ${coarser}` });
    }
  });

export const createApiKeySchema = z.strictObject({
  name: text().trim().min(1).max(100),
  role: z.enum(ROLES),
  appIds: z.array(appIdSchema).min(1).max(1000).nullable().default(null),
  expiresAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time, like 2030-01-31T00:00:00Z' }).optional(),
});

export const AUDIT_MAX_LIMIT = 500;

export const auditQuerySchema = z.strictObject({
  appId: appIdSchema.optional(),
  actor: z.string().min(1).max(300).optional(),
  action: z.string().min(1).max(100).optional(),
  target: z.string().min(1).max(300).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(AUDIT_MAX_LIMIT).default(100),
});

const policyRolesSchema = z
  .array(z.enum(ROLES))
  .max(ROLES.length)
  .refine((r) => new Set(r).size === r.length, 'list each role once');

export const updateAppPolicySchema = z
  .strictObject({ disable_gates: policyRolesSchema, dry_run: policyRolesSchema, skip_stages: policyRolesSchema })
  .partial()
  .refine((p) => Object.keys(p).length > 0, `set at least one of ${POLICY_ACTIONS.join(', ')}`);

export const commandSchema = z.strictObject({
  reason: multilineText().trim().min(1, 'say why (it goes to the audit log)').max(COMMAND_LIMITS.maxReasonLength),
});

export const createWebhookSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048).refine(...plainText),
  // A push relay subscribes to segment notifications by naming the event; an empty list is every rollout event.
  events: z
    .array(z.enum([...ROLLOUT_EVENTS, NOTIFICATION_EVENT]))
    .max(ROLLOUT_EVENTS.length + 1)
    .default([]),
});

export const createChannelSchema = z.strictObject({
  name: channelNameSchema,
  public: z.boolean().default(false),
  allowSelfAssign: z.boolean().default(false),
  platforms: platformsSchema.default([...PLATFORMS]),
});

/** An admin's override of the refusal to change who an active release reaches. */
const forceSchema = z.boolean().default(false);
const changed = (c: Record<string, unknown>) => Object.keys(c).some((k) => k !== 'force');

export const updateChannelSchema = z
  .strictObject({ public: z.boolean().optional(), allowSelfAssign: z.boolean().optional(), platforms: platformsSchema.optional(), force: forceSchema })
  .refine(changed, 'change at least one of public, allowSelfAssign, platforms');

export const deviceChannelSchema = z.strictObject({ channel: channelNameSchema });

// Rules and windows are JSON here; their structure is checked by the domain's validators, which explain every problem.
export const createSegmentSchema = z.strictObject({
  key: segmentKeySchema,
  rule: json().refine((r) => r !== undefined, 'a rule is required, e.g. {"always": true}'),
  priority: z.number().int().min(0).max(1_000_000).optional(),
  maintenanceWindows: z.array(json()).max(20).optional(),
  force: forceSchema,
});

export const updateSegmentSchema = z
  .strictObject({
    rule: json().optional(),
    priority: z.number().int().min(0).max(1_000_000).optional(),
    maintenanceWindows: z.array(json()).max(20).optional(),
    force: forceSchema,
  })
  .refine(changed, 'change at least one of rule, priority, maintenanceWindows');

export const forceQuerySchema = z.strictObject({
  force: z.enum(['true', 'false']).transform((v) => v === 'true').default(false),
});

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
