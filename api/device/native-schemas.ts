import { z } from 'zod';
import { PLATFORMS } from '../../domain/bundle';
import { CUSTOM_ATTRIBUTE_NAME } from '../../domain/segment-rules';
import { EVENT_TYPES } from '../../domain/telemetry';
import { channelNameSchema } from '../admin/schemas';

export const deviceIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e\u00a0-\uffff]+$/, 'must be printable characters without spaces');

const bundleVersionSchema = z.string().min(1).max(100);
const attributesSchema = z
  .record(z.string().regex(CUSTOM_ATTRIBUTE_NAME, 'attribute names: letters, digits, "_", "." and "-"'), z.union([z.string().max(256), z.number(), z.boolean()]))
  .refine((a) => Object.keys(a).length <= 50, 'at most 50 attributes');

/** What a device says about itself on every call: enough to resolve its channel and segment. */
const deviceContext = {
  deviceId: deviceIdSchema,
  platform: z.enum(PLATFORMS),
  nativeVersion: z.string().min(1).max(64),
  channel: channelNameSchema.optional(),
  attributes: attributesSchema.optional(),
};

export const checkRequestSchema = z.strictObject({ ...deviceContext, bundleVersion: bundleVersionSchema });

const DAY = 24 * 3600 * 1000;
// Device clocks drift and events are uploaded late, but not by months or from the future.
const eventTime = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .refine((d) => d.getTime() > Date.now() - 30 * DAY && d.getTime() < Date.now() + DAY, 'must be within the last 30 days (and not more than a day ahead)');

const eventType = z.enum(EVENT_TYPES);
// Every event type without fields of its own may carry a message.
const eventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: eventType.exclude(['session_end', 'feature_used']),
    at: eventTime,
    bundleVersion: bundleVersionSchema,
    message: z.string().max(2000).optional(),
  }),
  z.strictObject({ type: eventType.extract(['session_end']), at: eventTime, bundleVersion: bundleVersionSchema, durationMs: z.number().int().min(0).max(DAY) }),
  z.strictObject({ type: eventType.extract(['feature_used']), at: eventTime, bundleVersion: bundleVersionSchema, feature: z.string().min(1).max(100) }),
]);

export const eventsRequestSchema = z.strictObject({
  ...deviceContext,
  events: z.array(eventSchema).min(1).max(100),
});
