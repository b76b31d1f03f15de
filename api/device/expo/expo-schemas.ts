import { z } from 'zod';
import { EXPO_PLATFORMS } from '../../../domain/expo-manifest';
import { isValidRuntimeVersion, MAX_RUNTIME_VERSION_LENGTH } from '../../../domain/expo-runtime';
import { bundleVersionSchema, channelNameSchema } from '../../admin/schemas';
import { json, multilineText, plainText, text } from '../../http/text';
import { deviceIdSchema, eventsRequestSchema } from '../native-schemas';

export const RUNTIME_VERSION_SHAPE = `printable ASCII without spaces, at most ${MAX_RUNTIME_VERSION_LENGTH} characters`;
export const runtimeVersionSchema = z.string().refine(isValidRuntimeVersion, `must be ${RUNTIME_VERSION_SHAPE}`);
export const updateIdSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a UUID')
  .transform((s) => s.toLowerCase());

const base64urlSha256 = text().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the base64url SHA-256 of the file (43 characters, no padding)');
const assetFields = {
  hash: base64urlSha256,
  key: text().min(1).max(200),
  contentType: text().regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a MIME type such as image/png').max(200),
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048).refine(...plainText),
};
const assetSchema = z.strictObject({
  ...assetFields,
  fileExtension: text().regex(/^\.[\w.-]{1,20}$/, 'must start with "." such as .png').optional(),
});
const platformUpdateSchema = z.strictObject({
  launchAsset: z.strictObject(assetFields),
  assets: z.array(assetSchema).max(5000).default([]),
  // Per asset key, headers the client sends when it fetches that asset (e.g. a CDN token).
  assetRequestHeaders: z.record(text().max(200), z.record(text().regex(/^[!#$%&'*+.^_`|~\w-]+$/, 'must be a header name').max(100), text().max(4096))).default({}),
});

/** `POST /v1/apps/:appId/expo/bundles`: one bundle version, one runtime version, a manifest per platform. */
export const createExpoBundleSchema = z.strictObject({
  version: bundleVersionSchema,
  runtimeVersion: runtimeVersionSchema,
  /** Bytes of the export, for reports: devices fetch assets by their own URLs. */
  size: z.number().int().min(1).max(2 ** 31),
  platforms: z
    .partialRecord(z.enum(EXPO_PLATFORMS), platformUpdateSchema)
    .refine((p) => Object.keys(p).length > 0, 'register at least one of ios and android'),
  metadata: z.record(text().max(200), text().max(1000)).default({}),
  extra: z.record(z.string(), json()).default({}),
  notes: multilineText().max(4000).optional(),
});
export type CreateExpoBundle = z.infer<typeof createExpoBundleSchema>;

/** The request headers of Expo Updates v1 that Rampart reads (the device id is the app's own, see README). */
export const manifestRequestSchema = z.object({
  'expo-platform': z.enum(EXPO_PLATFORMS, { error: 'must be ios or android' }),
  'expo-runtime-version': runtimeVersionSchema,
  'expo-device-id': deviceIdSchema.optional(),
  'expo-channel-name': channelNameSchema.optional(),
  'expo-current-update-id': updateIdSchema.optional(),
  'expo-embedded-update-id': updateIdSchema.optional(),
});

/**
 * The native events body for an Expo app: the runtime version instead of a native version, and each
 * event names the update it happened on (`updateId`; null or absent: the embedded update).
 */
export const expoEventsRequestSchema = z.strictObject({
  deviceId: deviceIdSchema,
  platform: z.enum(EXPO_PLATFORMS),
  runtimeVersion: runtimeVersionSchema,
  channel: channelNameSchema.optional(),
  attributes: eventsRequestSchema.shape.attributes,
  // How many events a request may carry is the native schema's to say, once update ids are mapped.
  events: z.array(z.looseObject({ updateId: updateIdSchema.nullable().optional() })).min(1),
});

/** Each event as the native endpoint takes it, once its update id names a bundle version. */
export const nativeEventsSchema = eventsRequestSchema.shape.events;
