import { Router } from 'express';
import { createAdmission } from '../admission';
import { createSignedAnswers } from '../signed-answer';
import type { DeviceService } from '../device-service';
import { badRequest, onPremiseApp, statsAnswer, tooManyRequests, updateAnswer } from './capgo-answers';
import { createCapgoChannelRoutes } from './capgo-channel-routes';
import type { CapgoDeviceService } from './capgo-device-service';
import { identityOf } from './capgo-identity';
import { capgoJson } from './capgo-json';
import { parsePluginInput, parseStatsUpload, updateRequestSchema } from './capgo-schemas';

/**
 * The Capgo device protocol (`@capgo/capacitor-updater` 8.x): `updateUrl`, `statsUrl` and
 * `channelUrl` of the plugin point here. Every answer comes from the DeviceService, Capgo's own questions
 * through the Capgo device service built on it.
 */
export function createCapgoRoutes(deps: { devices: DeviceService; capgo: CapgoDeviceService }): Router {
  const router = Router();
  const answers = createSignedAnswers();
  const admitted = createAdmission(deps.devices, { tooManyRequests, unknownApp: onPremiseApp });
  const { capgo } = deps;
  router.use('/updates', capgoJson(32 * 1024));
  // A full batch of 200 events with WebView stacks in their metadata stays well below this.
  router.use('/stats', capgoJson(1024 * 1024));

  router.get('/updates', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.post('/updates', (req, res) => {
    const parsed = parsePluginInput(updateRequestSchema, req.body);
    if (!parsed.ok) return badRequest(res, parsed.problem);
    const info = parsed.value;
    const app = admitted(res, info.app_id, info.device_id);
    if (!app) return;
    const result = deps.devices.check(app, identityOf(info), 'capgo');
    // Besides the decision, Capgo's answer reads whether a channel serves the device, the plugin's version and the native one.
    const variant = `${result.channel === null ? '-' : '+'}${info.plugin_version}\u0000${info.version_build}`;
    answers.send(res, app, result.decision, variant, () => updateAnswer(result, info));
  });

  router.post('/stats', async (req, res) => {
    const parsed = parseStatsUpload(req.body);
    if (!parsed.ok) return badRequest(res, parsed.problem);
    const upload = parsed.value;
    if (!upload) return void res.json({ status: 'ok', results: [] });
    const verdict = await capgo.reportStats(upload);
    if (!verdict) return onPremiseApp(res);
    if (!verdict.allowed) return tooManyRequests(res, verdict.retryAfterSeconds, upload.appId);
    res.json(statsAnswer(upload));
  });

  router.use(createCapgoChannelRoutes({ capgo, admitted }));
  return router;
}
