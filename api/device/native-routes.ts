import { Router, type Response } from 'express';
import type { BundleRef } from '../../domain/bundle';
import { NotFoundError } from '../../domain/errors/not-found-error';
import type { Decision } from '../../domain/serving';
import { parse } from '../http/parse';
import { rateLimited } from '../http/rate-limited';
import { createAdmission } from './admission';
import { EVENTS_BODY_LIMIT_BYTES, incomingEvents } from './incoming-events';
import { leanJson } from './lean-json';
import { createSignedAnswers } from './signed-answer';
import { deviceIdentity, type DeviceService } from './device-service';
import { appIdSchema } from '../admin/schemas';
import { checkRequestSchema, eventsEnvelopeSchema, eventsRequestSchema } from './native-schemas';
import { fastEvents } from './fast-events';

function bundleBody(bundle: BundleRef) {
  const signature = bundle.signature === null ? {} : { signature: bundle.signature };
  return { version: bundle.version, url: bundle.url, sha256: bundle.sha256, size: bundle.size, ...signature };
}

/** The native protocol's answer to a check (also what a device's story shows for it). */
export function checkAnswer(decision: Decision) {
  const storeUpdate = decision.nativeUpdate === null ? {} : { storeUpdate: decision.nativeUpdate };
  switch (decision.action) {
    case 'none':
      return { action: 'none', ...storeUpdate };
    case 'update': {
      // An experiment arm says when to apply its bundle (native devices honour `installMode`).
      const timing = decision.experimentArm === undefined ? {} : { installMode: decision.experimentArm.installMode };
      return { action: 'update', bundle: bundleBody(decision.bundle), releaseId: decision.releaseId, ...timing, ...storeUpdate };
    }
    case 'rollback':
      return { action: 'rollback', bundle: decision.bundle ? bundleBody(decision.bundle) : null, releaseId: decision.releaseId };
  }
}

/** The events body, its events taken by `fastEvents` where they have the common shapes, else by the schema (and its problems). */
function eventsBody(input: unknown) {
  const envelope = eventsEnvelopeSchema.safeParse(input);
  const events = envelope.success ? fastEvents(envelope.data.events, Date.now()) : null;
  if (envelope.success && events !== null) return { ...envelope.data, events };
  const body = parse(eventsRequestSchema, input);
  return { ...body, events: incomingEvents(body.events) };
}

function noApp(res: Response, appId: string): void {
  res.status(404).json({ error: new NotFoundError(`no app ${appId}`).toJSON() });
}

/** Rampart's own device protocol (v1): update checks from memory, events durable before 202. */
export function createNativeDeviceRoutes(deps: { devices: DeviceService }): Router {
  const router = Router();
  const answers = createSignedAnswers();
  const admitted = createAdmission(deps.devices, { tooManyRequests: rateLimited, unknownApp: noApp });
  router.post('/v1/apps/:appId/check', leanJson(16 * 1024), (req, res) => {
    const appId = parse(appIdSchema, req.params.appId, 'app id');
    const body = parse(checkRequestSchema, req.body);
    const app = admitted(res, appId, body.deviceId);
    if (!app) return;
    const { decision } = deps.devices.check(
      app,
      deviceIdentity({ appId, deviceId: body.deviceId, platform: body.platform, nativeVersion: body.nativeVersion, bundleVersion: body.bundleVersion, requestedChannel: body.channel, attributes: body.attributes, timeZone: body.timeZone }),
      'native',
    );
    // The native answer is the decision's alone.
    answers.send(res, app, decision, '', () => checkAnswer(decision));
  });

  router.post('/v1/apps/:appId/events', leanJson(EVENTS_BODY_LIMIT_BYTES), async (req, res) => {
    const appId = parse(appIdSchema, req.params.appId, 'app id');
    const body = eventsBody(req.body);
    const app = admitted(res, appId, body.deviceId, body.events.length);
    if (!app) return;
    await deps.devices.report(
      app,
      deviceIdentity({
        appId,
        deviceId: body.deviceId,
        platform: body.platform,
        nativeVersion: body.nativeVersion,
        bundleVersion: body.events.at(-1)!.bundleVersion,
        requestedChannel: body.channel,
        attributes: body.attributes,
        timeZone: body.timeZone,
      }),
      body.events,
    );
    res.status(202).json({ accepted: body.events.length });
  });

  return router;
}
