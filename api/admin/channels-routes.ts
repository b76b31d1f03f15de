import { Router } from 'express';
import type { Channel } from '../../domain/channel';
import { deviceIdSchema } from '../device/native-schemas';
import { authorize } from '../http/auth';
import { parse } from '../http/parse';
import type { ChannelService } from '../services/channel-service';
import { createChannelSchema, deviceChannelSchema, updateChannelSchema } from './schemas';

export function channelResponse(channel: Channel) {
  return {
    name: channel.name,
    public: channel.public,
    allowSelfAssign: channel.allowSelfAssign,
    platforms: channel.platforms,
    deploymentKey: channel.deploymentKey,
    createdAt: channel.createdAt,
  };
}

export function createChannelsRoutes(deps: { channels: ChannelService }): Router {
  const router = Router();

  router.post('/v1/apps/:appId/channels', async (req, res) => {
    const principal = authorize(res, 'configure_app', req.params.appId);
    const body = parse(createChannelSchema, req.body);
    res.status(201).json(channelResponse(await deps.channels.create(req.params.appId, body, principal)));
  });

  router.get('/v1/apps/:appId/channels', async (req, res) => {
    const principal = authorize(res, 'read', req.params.appId);
    res.json({ channels: (await deps.channels.list(req.params.appId, principal)).map(channelResponse) });
  });

  router.patch('/v1/apps/:appId/channels/:name', async (req, res) => {
    const principal = authorize(res, 'configure_app', req.params.appId);
    const { force, ...changes } = parse(updateChannelSchema, req.body);
    res.json(channelResponse(await deps.channels.update(req.params.appId, req.params.name, changes, principal, { force })));
  });

  router.put('/v1/apps/:appId/devices/:deviceId/channel', async (req, res) => {
    const principal = authorize(res, 'configure_app', req.params.appId);
    const deviceId = parse(deviceIdSchema, req.params.deviceId, 'device id');
    const body = parse(deviceChannelSchema, req.body);
    await deps.channels.overrideDevice(req.params.appId, deviceId, body.channel, principal);
    res.json({ deviceId, channel: body.channel, source: 'admin' });
  });

  router.delete('/v1/apps/:appId/devices/:deviceId/channel', async (req, res) => {
    const principal = authorize(res, 'configure_app', req.params.appId);
    const deviceId = parse(deviceIdSchema, req.params.deviceId, 'device id');
    await deps.channels.clearDeviceOverride(req.params.appId, deviceId, principal);
    res.status(204).end();
  });

  return router;
}
