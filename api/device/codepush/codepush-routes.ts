import express, { Router, type Request, type Response } from 'express';
import { BUILTIN_VERSION } from '../../../domain/bundle';
import { NotFoundError } from '../../../domain/errors/not-found-error';
import { parse } from '../../http/parse';
import { rateLimited } from '../../http/rate-limited';
import type { RolloutSnapshot } from '../../snapshot/rollout-snapshot';
import type { IncomingEvent } from '../../telemetry/telemetry-service';
import { createAdmission } from '../admission';
import { createSignedAnswers } from '../signed-answer';
import { deviceIdentity, type DeviceIdentity, type DeviceService } from '../device-service';
import type { AppServing } from '../../snapshot/app-serving';
import { snakeCaseUpdateInfo, updateInfoFor, type UpdateInfo } from './codepush-answers';
import { deployEvent, downloadEvent } from './codepush-reports';
import { deployReportSchema, downloadReportSchema, updateCheckQuerySchema } from './codepush-schemas';

const PREFIX = '/v0.1/public/codepush';

interface DeviceSays {
  deploymentKey: string;
  clientUniqueId?: string | undefined;
  appVersion?: string | undefined;
}

/**
 * The CodePush device protocol (`code-push` acquisition SDK 4.2.3 and the legacy camelCase routes):
 * the deployment key names app and channel; answers and events go through the device service.
 */
export function createCodePushRoutes(deps: { devices: DeviceService; snapshot: RolloutSnapshot }): Router {
  const router = Router();
  const answers = createSignedAnswers();
  router.use([`${PREFIX}/report_status`, '/reportStatus'], express.json({ limit: '16kb' }));

  // The deployment key names the app: the one lookup of the request.
  const identify = (says: DeviceSays, bundleVersion: string): { app: AppServing; device: DeviceIdentity } => {
    const keyed = deps.snapshot.byDeploymentKey(says.deploymentKey);
    if (!keyed) throw new NotFoundError('unknown deployment key');
    // CodePush does not say which platform asks; a channel made for exactly one platform does.
    const platforms = keyed.app.channels.get(keyed.channel)?.platforms ?? [];
    const device = deviceIdentity({
      appId: keyed.app.appId,
      // Empty: DeviceService never puts a device without an id into a canary.
      deviceId: says.clientUniqueId ?? '',
      platform: platforms.length === 1 ? (platforms[0] ?? null) : null,
      // Download reports do not carry the app version.
      nativeVersion: says.appVersion ?? '',
      bundleVersion,
      keyedChannel: keyed.channel,
    });
    return { app: keyed.app, device };
  };

  // The deployment key has named a known app already (identify); an app gone since answers as an unknown key.
  const admission = createAdmission(deps.devices, { tooManyRequests: rateLimited, unknownApp: (res) => res.status(404).json({ error: new NotFoundError('unknown deployment key').toJSON() }) });
  // Without an id the client address stands in, so anonymous devices do not share one bucket;
  // the space keeps that key apart from every valid device id.
  const admitted = (req: Request, res: Response, { app, device }: { app: AppServing; device: DeviceIdentity }) =>
    admission(res, app, device.deviceId || `anonymous ${req.ip ?? ''}`);

  // Besides the decision, the answer carries the device's app version back (and the route's spelling).
  const updateCheck = (spelling: string, render: (info: UpdateInfo) => object) => (req: Request, res: Response) => {
    const query = parse(updateCheckQuerySchema, req.query, 'query string');
    const identified = identify(query, query.label ?? BUILTIN_VERSION);
    const app = admitted(req, res, identified);
    if (!app) return;
    const { decision } = deps.devices.check(app, identified.device, 'codepush');
    answers.send(res, app, decision, `${spelling}${query.appVersion}`, () => render(updateInfoFor(decision, query.appVersion)));
  };

  const record = async (req: Request, res: Response, says: DeviceSays, event: IncomingEvent) => {
    const identified = identify(says, event.bundleVersion);
    const app = admitted(req, res, identified);
    if (!app) return;
    await deps.devices.report(app, identified.device, [event]);
    // Clients ignore the body; code-push-server answers a plain "OK".
    res.sendStatus(200);
  };

  router.get(`${PREFIX}/update_check`, updateCheck('v0.1 ', (info) => ({ update_info: snakeCaseUpdateInfo(info) })));
  router.get('/updateCheck', updateCheck('legacy ', (updateInfo) => ({ updateInfo })));

  router.post([`${PREFIX}/report_status/deploy`, '/reportStatus/deploy'], async (req, res) => {
    const report = parse(deployReportSchema, req.body);
    await record(req, res, report, deployEvent(report, new Date()));
  });

  router.post([`${PREFIX}/report_status/download`, '/reportStatus/download'], async (req, res) => {
    const report = parse(downloadReportSchema, req.body);
    await record(req, res, report, downloadEvent(report, new Date()));
  });

  return router;
}
