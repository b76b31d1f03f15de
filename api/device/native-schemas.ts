import { z } from 'zod';
import { PLATFORMS } from '../../domain/bundle';
import { MAX_FEATURE_NAME_LENGTH } from '../../domain/insight';
import { normalizeNativeVersion } from '../../domain/native-compat';
import { CUSTOM_ATTRIBUTE_NAME } from '../../domain/segment-rules';
import { EVENT_CLOCK, EVENT_TYPES, isPlausibleEventTime } from '../../domain/telemetry';
import { DAY_MS, HOUR_MS } from '../../domain/time';
import { channelNameSchema, timeZoneSchema } from '../admin/schemas';
import { multilineText, plainText, text } from '../http/text';

export const deviceIdSchema = text()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e\u00a0-\uffff]+$/, 'must be printable characters without spaces');

/** The longest bundle version, event message and number of events per post a device may send. */
export const DEVICE_FIELD_LIMITS = { bundleVersion: 100, message: 2000, eventsPerPost: 100 } as const;

const bundleVersionSchema = text().min(1).max(DEVICE_FIELD_LIMITS.bundleVersion);
// Anything a store build calls its version (`3.1`, `3.1.0 (45)`) is fine, as long as it reads as one:
// a device whose version means nothing would silently never match a native range.
const NATIVE_VERSION_SHAPE = 'must be a version such as 3.1.0 or 3.1';
const nativeVersionSchema = z
  .string({ error: NATIVE_VERSION_SHAPE })
  .refine(...plainText)
  .max(64)
  .refine((v) => normalizeNativeVersion(v) !== null, NATIVE_VERSION_SHAPE);
const attributesSchema = z
  .record(text().regex(CUSTOM_ATTRIBUTE_NAME, 'attribute names: letters, digits, "_", "." and "-"'), z.union([text().max(256), z.number(), z.boolean()]))
  .refine((a) => Object.keys(a).length <= 50, 'at most 50 attributes');

/** What a device says about itself on every call: enough to resolve its channel and segment. */
const deviceContext = {
  deviceId: deviceIdSchema,
  platform: z.enum(PLATFORMS),
  nativeVersion: nativeVersionSchema,
  channel: channelNameSchema.optional(),
  attributes: attributesSchema.optional(),
  /** IANA zone of the device: segment notifications respect quiet hours there. */
  timeZone: timeZoneSchema().optional(),
};

export const checkRequestSchema = z.strictObject({ ...deviceContext, bundleVersion: bundleVersionSchema });

const eventTime = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .refine(
    (d) => isPlausibleEventTime(d.getTime(), Date.now()),
    `must be within the last ${EVENT_CLOCK.maxAgeMs / DAY_MS} days (and not more than ${EVENT_CLOCK.maxAheadMs / HOUR_MS} h ahead)`,
  );

const eventType = z.enum(EVENT_TYPES);
// Every event type without fields of its own may carry a message.
const eventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: eventType.exclude(['session_end', 'feature_used', 'install_ok', 'install_failed']),
    at: eventTime,
    bundleVersion: bundleVersionSchema,
    message: multilineText().max(DEVICE_FIELD_LIMITS.message).optional(),
  }),
  // How long the install took, when the device measured it.
  z.strictObject({
    type: eventType.extract(['install_ok', 'install_failed']),
    at: eventTime,
    bundleVersion: bundleVersionSchema,
    message: z.string().max(DEVICE_FIELD_LIMITS.message).optional(),
    durationMs: z.number().int().min(0).max(DAY_MS).optional(),
  }),
  z.strictObject({ type: eventType.extract(['session_end']), at: eventTime, bundleVersion: bundleVersionSchema, durationMs: z.number().int().min(0).max(DAY_MS) }),
  z.strictObject({ type: eventType.extract(['feature_used']), at: eventTime, bundleVersion: bundleVersionSchema, feature: text().min(1).max(MAX_FEATURE_NAME_LENGTH) }),
]);

const eventList = <T extends z.ZodType>(event: T) => z.array(event).min(1).max(DEVICE_FIELD_LIMITS.eventsPerPost);

export const eventsRequestSchema = z.strictObject({ ...deviceContext, events: eventList(eventSchema) });

/** The events body with its events left unchecked, for `fastEvents` to take (see native-routes). */
export const eventsEnvelopeSchema = z.strictObject({ ...deviceContext, events: eventList(z.unknown()) });
