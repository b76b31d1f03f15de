import { Router } from 'express';
import { z } from 'zod';
import type { Stores } from '../../db/create-stores';
import { NotFoundError } from '../../domain/errors/not-found-error';
import { NOTIFICATION_LIMITS } from '../../domain/segment-notification';
import { tokenHash } from '../../platform/ids';
import { parse } from '../http/parse';
import { text } from '../http/text';

export const notificationDevicesQuerySchema = z.strictObject({
  /** The last device id of the previous page. */
  after: text().min(1).max(512).optional(),
  limit: z.coerce.number().int().min(1).max(NOTIFICATION_LIMITS.pageSize).default(NOTIFICATION_LIMITS.pageSize),
});

const tokenSchema = text().regex(/^snt_[A-Za-z0-9_-]{43}$/, 'not a notification token');

/**
 * The push relay pages through a large notification's devices. The token in the path is the only
 * credential: it names one delivery, reveals only its device ids, and expires.
 */
export function createNotificationDevicesRoutes(deps: { stores: Pick<Stores, 'segmentNotifications'> }): Router {
  const router = Router();
  router.get('/v1/notifications/:token/devices', async (req, res) => {
    const token = parse(tokenSchema, req.params.token, 'path');
    const query = parse(notificationDevicesQuerySchema, req.query, 'query string');
    const page = await deps.stores.segmentNotifications.devicesPage(tokenHash(token), query.after ?? null, query.limit);
    if (!page) throw new NotFoundError('no such notification token, or it expired');
    const last = page.deviceIds.at(-1);
    res.json({
      releaseId: page.releaseId,
      deliveryId: page.deliveryId,
      deviceCount: page.deviceCount,
      deviceIds: page.deviceIds,
      next: page.deviceIds.length === query.limit && last !== undefined ? `/v1/notifications/${token}/devices?after=${encodeURIComponent(last)}&limit=${query.limit}` : null,
    });
  });
  return router;
}
