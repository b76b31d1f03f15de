import { Router } from 'express';
import { isSelectable, publicChannelFor } from '../../../domain/channel';
import type { Admission } from '../admission';
import type { DeviceService } from '../device-service';
import { badRequest, channelListEntry, onPremiseApp } from './capgo-answers';
import { identityOf, storesChannelOnServer } from './capgo-identity';
import { capgoJson } from './capgo-json';
import { channelListRequestSchema, channelSelfRequestSchema, infoFromQuery, parsePluginInput } from './capgo-schemas';

const CANNOT_OVERRIDE = { error: 'cannot_override', message: "Cannot change device override current channel don't allow it" };

/**
 * Capgo's `channel_self`: POST sets, PUT reads, GET lists, DELETE (legacy plugins) unsets a
 * device's own channel. Plugins from X.34 keep their choice locally and send it as
 * `defaultChannel`; older ones expect the server to keep it.
 */
export function createCapgoChannelRoutes(deps: { devices: DeviceService; admitted: Admission }): Router {
  const router = Router();
  router.use('/channel_self', capgoJson('32kb'));

  const { admitted } = deps;

  router.post('/channel_self', async (req, res) => {
    const parsed = parsePluginInput(channelSelfRequestSchema, req.body);
    if (!parsed.ok) return badRequest(res, parsed.problem);
    const { app_id: appId, device_id: deviceId, platform, channel, plugin_version: pluginVersion } = parsed.value;
    if (!channel) return void res.json({ error: 'missing_channel', message: 'Cannot find channel in body' });
    if (!admitted(res, appId, deviceId)) return;
    const app = deps.devices.app(appId);
    if (!app) return onPremiseApp(res);

    const override = app.overrides.get(deviceId);
    // An admin's choice outranks the device's, whatever the plugin would store.
    if (override?.source === 'admin') return void res.json(CANNOT_OVERRIDE);
    const target = app.channels.get(channel);
    if (!target) return void res.json({ error: 'channel_not_found', message: 'Cannot find channel', channel, app_id: appId });
    const legacy = storesChannelOnServer(pluginVersion);
    if (publicChannelFor(app.channels, platform)?.name === channel) {
      // Asking for the default channel means giving up any channel of its own.
      if (override) await deps.devices.clearSelfAssignment(appId, deviceId);
      return void res.json(legacy ? { status: 'ok' } : { status: 'ok', unset: true });
    }
    if (!isSelectable(target, platform)) {
      const message = target.allowSelfAssign ? `This channel does not serve ${platform} devices` : 'This channel does not allow devices to self associate';
      return void res.json({ error: 'channel_self_set_not_allowed', message, channel, app_id: appId });
    }
    if (legacy) {
      await deps.devices.selfAssign(appId, deviceId, channel);
      return void res.json({ status: 'ok' });
    }
    // A choice stored for an older plugin on this device would outrank the one the plugin now keeps.
    if (override) await deps.devices.clearSelfAssignment(appId, deviceId);
    res.json({ status: 'ok', allowSet: true });
  });

  router.put('/channel_self', (req, res) => {
    const parsed = parsePluginInput(channelSelfRequestSchema, req.body);
    if (!parsed.ok) return badRequest(res, parsed.problem);
    const info = parsed.value;
    if (!admitted(res, info.app_id, info.device_id)) return;
    const resolved = deps.devices.resolve({ ...identityOf(info), requestedChannel: info.channel || info.defaultChannel || undefined });
    if (!resolved) return onPremiseApp(res);
    if (resolved.channel === null) return void res.json({ error: 'channel_not_found', message: 'Cannot find channel' });
    const override = resolved.app.overrides.get(info.device_id);
    const overridden = override?.channel === resolved.channel;
    if (overridden && override.source === 'admin') return void res.json({ channel: resolved.channel, status: 'override', allowSet: false });
    // New plugins send the channel they keep; it is theirs to report unless an admin forced another.
    if (info.channel) return void res.json({ channel: info.channel, status: 'override', allowSet: true });
    const allowSet = resolved.app.channels.get(resolved.channel)?.allowSelfAssign ?? false;
    res.json({ channel: resolved.channel, status: overridden ? 'override' : 'default', allowSet });
  });

  router.get('/channel_self', (req, res) => {
    const parsed = parsePluginInput(channelListRequestSchema, infoFromQuery(req.query), { requireDevice: false, invalidCode: 'invalid_query_parameters' });
    if (!parsed.ok) return badRequest(res, parsed.problem);
    const { app_id: appId, device_id: deviceId, platform } = parsed.value;
    // Calls without a device id share one budget per app; the plugin always sends its id.
    if (!admitted(res, appId, deviceId ?? '')) return;
    const app = deps.devices.app(appId);
    if (!app) return onPremiseApp(res);
    const usable = [...app.channels.values()].filter((c) => isSelectable(c, platform)).sort((a, b) => a.name.localeCompare(b.name));
    res.json(usable.map((c) => channelListEntry(appId, c)));
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
    const app = deps.devices.app(appId);
    if (!app) return onPremiseApp(res);
    if (app.overrides.get(deviceId)?.source === 'admin') return void res.json(CANNOT_OVERRIDE);
    await deps.devices.clearSelfAssignment(appId, deviceId);
    res.json({ status: 'ok' });
  });

  return router;
}
