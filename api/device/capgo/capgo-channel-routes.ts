import { Router } from 'express';
import type { Admission } from '../admission';
import { badRequest, CANNOT_OVERRIDE, CHANNEL_NOT_FOUND, channelListEntry, onPremiseApp, selfAssignAnswer } from './capgo-answers';
import type { CapgoDeviceService } from './capgo-device-service';
import { capgoJson } from './capgo-json';
import { channelListRequestSchema, channelSelfRequestSchema, infoFromQuery, parsePluginInput } from './capgo-schemas';

/**
 * Capgo's `channel_self`: POST sets, PUT reads, GET lists, DELETE (legacy plugins) unsets a
 * device's own channel. Plugins from X.34 keep their choice locally and send it as
 * `defaultChannel`; older ones expect the server to keep it.
 */
export function createCapgoChannelRoutes(deps: { capgo: CapgoDeviceService; admitted: Admission }): Router {
  const router = Router();
  const { capgo, admitted } = deps;
  router.use('/channel_self', capgoJson(32 * 1024));

  router.post('/channel_self', async (req, res) => {
    const parsed = parsePluginInput(channelSelfRequestSchema, req.body);
    if (!parsed.ok) return badRequest(res, parsed.problem);
    const request = parsed.value;
    if (!request.channel) return void res.json({ error: 'missing_channel', message: 'Cannot find channel in body' });
    if (!admitted(res, request.app_id, request.device_id)) return;
    const outcome = await capgo.selfAssign(request, request.channel);
    if (!outcome) return onPremiseApp(res);
    res.json(selfAssignAnswer(outcome, request, request.channel));
  });

  router.put('/channel_self', (req, res) => {
    const parsed = parsePluginInput(channelSelfRequestSchema, req.body);
    if (!parsed.ok) return badRequest(res, parsed.problem);
    const request = parsed.value;
    if (!admitted(res, request.app_id, request.device_id)) return;
    const report = capgo.channelOf(request);
    if (report === undefined) return onPremiseApp(res);
    res.json(report ?? CHANNEL_NOT_FOUND);
  });

  router.get('/channel_self', (req, res) => {
    const parsed = parsePluginInput(channelListRequestSchema, infoFromQuery(req.query), { requireDevice: false, invalidCode: 'invalid_query_parameters' });
    if (!parsed.ok) return badRequest(res, parsed.problem);
    const { app_id: appId, device_id: deviceId, platform } = parsed.value;
    // Calls without a device id share one budget per app; the plugin always sends its id.
    if (!admitted(res, appId, deviceId ?? '')) return;
    const channels = capgo.selectableChannels(appId, platform);
    if (!channels) return onPremiseApp(res);
    res.json(channels.map((c) => channelListEntry(appId, c)));
  });

  router.delete('/channel_self', async (req, res) => {
    // Capgo reads the InfoObject from the query; old Android plugins sent it as a JSON body.
    const fromQuery = Object.keys(req.query).length > 0;
    const parsed = parsePluginInput(channelSelfRequestSchema, fromQuery ? infoFromQuery(req.query) : req.body, {
      invalidCode: fromQuery ? 'invalid_query_parameters' : 'invalid_json_body',
    });
    if (!parsed.ok) return badRequest(res, parsed.problem);
    const { app_id: appId, device_id: deviceId } = parsed.value;
    if (!admitted(res, appId, deviceId)) return;
    const outcome = await capgo.unsetChannel(appId, deviceId);
    if (!outcome) return onPremiseApp(res);
    res.json(outcome === 'admin_override' ? CANNOT_OVERRIDE : { status: 'ok' });
  });

  return router;
}
