import semver from 'semver';
import { z } from 'zod';
import { isRecord } from '../../../domain/is-record';
import { normalizeNativeVersion } from '../../../domain/native-compat';
import { appIdSchema } from '../../admin/schemas';
import { multilineText, text } from '../../http/text';

/** The platforms `@capgo/capacitor-updater` reports (a subset of Rampart's). */
export const CAPGO_PLATFORMS = ['ios', 'android', 'electron'] as const;

/** Capgo's own limit for one stats upload: the plugin keeps at most 200 events pending. */
export const MAX_STATS_EVENTS = 200;

// The plugin generates a random UUID per install; Capgo lower-cases it before checking.
const deviceIdSchema = text()
  .max(36)
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a UUID');
const pluginVersionSchema = text()
  .max(64)
  .refine((v) => semver.valid(v) !== null, 'must be a semantic version such as 8.51.23');
const channelRequestSchema = text().max(128);

/** The InfoObject fields every plugin request carries; unknown extra fields are dropped, not refused. */
const deviceFields = {
  app_id: appIdSchema,
  device_id: deviceIdSchema,
  platform: z.enum(CAPGO_PLATFORMS),
  is_emulator: z.boolean(),
  is_prod: z.boolean(),
  defaultChannel: channelRequestSchema.optional(),
  custom_id: text().max(36).optional(),
  install_source: text().max(64).optional(),
  version_os: text().max(64).optional(),
  version_code: text().max(64).optional(),
  key_id: text().max(20).optional(),
};

export const updateRequestSchema = z.object({
  ...deviceFields,
  version_build: text().min(1).max(64),
  version_name: text().min(1).max(100),
  plugin_version: pluginVersionSchema,
});
export type UpdateRequest = z.infer<typeof updateRequestSchema>;

/** `channel_self` POST, PUT and DELETE: versions may be empty, `plugin_version` may be missing (old plugins). */
export const channelSelfRequestSchema = z.object({
  ...deviceFields,
  version_build: text().max(64),
  version_name: text().max(100),
  plugin_version: pluginVersionSchema.optional(),
  channel: channelRequestSchema.optional(),
});
export type ChannelSelfRequest = z.infer<typeof channelSelfRequestSchema>;

/** `channel_self` GET lists channels for a platform; the device id only serves the rate limit. */
export const channelListRequestSchema = z.object({
  app_id: appIdSchema,
  device_id: deviceIdSchema.optional(),
  platform: z.enum(CAPGO_PLATFORMS),
  is_emulator: z.boolean(),
  is_prod: z.boolean(),
});

/** Per-file delta failures name `"<version>:<file>"`; the bundle is the part before the first colon. */
export function splitVersionName(versionName: string): { bundle: string; file: string | null } {
  const colon = versionName.indexOf(':');
  return colon > 0 ? { bundle: versionName.slice(0, colon), file: versionName.slice(colon + 1) } : { bundle: versionName, file: null };
}

const metadataSchema = z
  .record(text().max(64), multilineText().max(2048))
  .refine((m) => Object.keys(m).length <= 30, 'at most 30 metadata fields');

export const statsEventSchema = z.object({
  ...deviceFields,
  version_os: text().max(64),
  version_name: text()
    .max(1024)
    .refine((v) => splitVersionName(v).bundle.length <= 100, 'the bundle version must be at most 100 characters'),
  version_build: text().min(1).max(64).optional(),
  plugin_version: text().max(64).optional(),
  old_version_name: text().max(100).optional(),
  // Unknown actions are kept (a newer plugin may send them); the shape only has to be a sane name.
  action: text()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_]+$/, 'letters, digits and "_"'),
  timestamp: z.number().optional(),
  metadata: metadataSchema.optional(),
});
export type StatsEvent = z.infer<typeof statsEventSchema>;

/** Capgo's error body: `{error, message, moreInfo?}`. */
export interface CapgoProblem {
  error: string;
  message: string;
  moreInfo?: Record<string, unknown>;
}

export type PluginInput<T> = { ok: true; value: T } | { ok: false; problem: CapgoProblem };

const fail = (error: string, message: string, moreInfo?: Record<string, unknown>): PluginInput<never> => ({
  ok: false,
  problem: moreInfo ? { error, message, moreInfo } : { error, message },
});

const isBlank = (value: unknown) => value === undefined || value === null || value === '';

/**
 * Validates a plugin request the way Capgo's `parsePluginBody` reports problems: missing device or
 * app first (their own codes), then a native version that is not semver, then everything else.
 */
export function parsePluginInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  options: { requireDevice?: boolean; invalidCode?: string } = {},
): PluginInput<z.infer<S>> {
  const invalidCode = options.invalidCode ?? 'invalid_json_body';
  if (!isRecord(input) || Object.keys(input).length === 0) return fail(invalidCode, 'Cannot parse body');
  if ((options.requireDevice ?? true) && isBlank(input.device_id)) return fail('missing_device_id', 'Cannot find device_id');
  if (isBlank(input.app_id)) return fail('missing_app_id', 'Cannot find app_id');
  const build = input.version_build;
  // Longer values fail the schema's length check instead of reaching the semver parser.
  if (typeof build === 'string' && build !== '' && build.length <= 64 && normalizeNativeVersion(build) === null) {
    return fail('semver_error', `Native version: ${build} doesn't follow semver convention`, { version_build: build });
  }
  const normalized = typeof input.device_id === 'string' ? { ...input, device_id: input.device_id.toLowerCase() } : input;
  const result = schema.safeParse(normalized);
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message }));
  return fail(invalidCode, 'Cannot parse body', { issues });
}

/**
 * `channel_self` GET and legacy DELETE send the InfoObject as query parameters; booleans arrive as
 * strings and default as in Capgo (`is_emulator` false, `is_prod` true).
 */
export function infoFromQuery(query: Record<string, unknown>): Record<string, unknown> {
  const flag = (value: unknown, fallback: boolean) => (value === undefined ? fallback : value === 'true' ? true : value === 'false' ? false : value);
  if (Object.keys(query).length === 0) return {};
  return { ...query, is_emulator: flag(query.is_emulator, false), is_prod: flag(query.is_prod, true) };
}

/** A stats upload: a batch, or one event sent as an object (older plugins); all of one app. */
export interface StatsUpload {
  /** false: one event sent as an object, answered without per-event results. */
  batch: boolean;
  appId: string;
  /** Each event parsed on its own: in a batch, a bad event is reported back and the others kept. */
  events: PluginInput<StatsEvent>[];
}

/** The app ids a stats body names; events without one fail on their own. */
function appIdsOf(items: unknown[]): Set<string> {
  return new Set(items.flatMap((item) => (isRecord(item) && typeof item.app_id === 'string' ? [item.app_id] : [])));
}

/** Validates a stats body as Capgo does; null for an empty batch, which names no app. */
export function parseStatsUpload(body: unknown): PluginInput<StatsUpload | null> {
  const batch = Array.isArray(body);
  if (!batch && !isRecord(body)) return fail('invalid_json_body', 'Cannot parse body');
  const items: unknown[] = batch ? body : [body];
  if (items.length === 0) return { ok: true, value: null };
  if (items.length > MAX_STATS_EVENTS) return fail('invalid_json_body', `At most ${MAX_STATS_EVENTS} events per request`, { events: items.length });
  const appIds = appIdsOf(items);
  if (appIds.size > 1) return fail('mixed_app_ids', 'All events in a batch must have the same app_id');
  const [appId] = appIds;
  if (appId === undefined) return fail('invalid_app_id', 'Cannot find app_id');
  if (!appIdSchema.safeParse(appId).success) return fail('invalid_app_id', 'app_id must be a reverse-domain id');
  const events = items.map((item) => parsePluginInput(statsEventSchema, item));
  const [first] = events;
  if (!batch && first && !first.ok) return first;
  return { ok: true, value: { batch, appId, events } };
}
