import { z } from 'zod';
import { PLATFORMS } from '../../domain/bundle';
import { channelNameSchema } from '../admin/schemas';

export const deviceIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e\u00a0-\uffff]+$/, 'must be printable characters without spaces');

export const checkRequestSchema = z.strictObject({
  deviceId: deviceIdSchema,
  platform: z.enum(PLATFORMS),
  nativeVersion: z.string().min(1).max(64),
  bundleVersion: z.string().min(1).max(100),
  channel: channelNameSchema.optional(),
  attributes: z
    .record(z.string().min(1).max(64), z.union([z.string().max(256), z.number(), z.boolean()]))
    .refine((a) => Object.keys(a).length <= 50, 'at most 50 attributes')
    .optional(),
});
