import { Router } from 'express';
import type { ChannelStep } from '../../domain/channel';
import { snakeCaseUpdateInfo, updateInfoFor } from '../device/codepush/codepush-answers';
import { updateAnswer } from '../device/capgo/capgo-answers';
import { expoAnswerFor } from '../../domain/expo-answer';
import { deviceIdSchema } from '../device/native-schemas';
import { checkAnswer } from '../device/native-routes';
import { authorize } from '../http/auth';
import { parse } from '../http/parse';
import type { Adoption, DeviceStory, DeviceStoryService } from '../services/device-story-service';
import { adoptionQuerySchema } from './schemas';

const CHANNEL_STEPS: Record<ChannelStep, string> = {
  admin_override: 'an admin put the device in this channel',
  self_assigned: 'the device chose this channel, which allows self-assignment',
  deployment_key: 'the deployment key the device holds names this channel',
  requested: 'the device asks for this channel, and may use it',
  public_default: 'the public channel of its platform: no override, key or usable request named another',
  none: 'no channel serves it: none is public for its platform and none it may use was named',
};

const ASSUMPTION =
  'Explained for the device as its profile last saw it (platform, native version, bundle, attributes, engagement). ' +
  'A device does not say which channel it asks for until it checks in, so the channel it was last served from stands in for the requested one; ' +
  'CodePush is answered as if asked with that channel\'s deployment key.';

function segmentPart({ explanation }: DeviceStory) {
  const { matched, segment } = explanation.segment;
  return {
    key: segment,
    matchedRule: matched,
    reason: matched ? `rule "${matched.key}" (priority ${matched.priority}) is the first that matches` : 'no rule matched → default',
  };
}

function answers(story: DeviceStory) {
  const { check, device } = story;
  return {
    native: checkAnswer(check.decision),
    capgo: updateAnswer(check, { version_build: device.nativeVersion, plugin_version: story.capgoPluginVersion }),
    codepush: { update_info: snakeCaseUpdateInfo(updateInfoFor(check.decision, device.nativeVersion)) },
    // Which part expo-updates would get; its manifest is the bundle's (GET /v1/apps/:appId/expo/bundles).
    expo: expoAnswerFor(check.decision),
  };
}

export function deviceStoryResponse(appId: string, story: DeviceStory) {
  const { profile, explanation } = story;
  const { decision } = explanation;
  return {
    appId,
    deviceId: profile.deviceId,
    profile: {
      platform: profile.platform,
      nativeVersion: profile.nativeVersion,
      bundleVersion: profile.bundleVersion,
      channel: profile.channel,
      attributes: profile.attributes,
      timeZone: profile.timeZone,
      firstSeen: profile.firstSeen.toISOString(),
      lastSeen: profile.lastSeen.toISOString(),
      engagement: { sessionsLast7d: profile.sessionsLast7d, daysSinceFirstSeen: story.daysSinceFirstSeen },
    },
    assumptions: { note: ASSUMPTION, requestedChannel: profile.channel, capgoPluginVersion: story.capgoPluginVersion },
    channel: { name: explanation.channel.channel, step: explanation.channel.step, reason: CHANNEL_STEPS[explanation.channel.step] },
    segment: segmentPart(story),
    release: explanation.release,
    decision: { action: decision.action, releaseId: decision.releaseId, cohort: decision.cohort, nativeUpdate: decision.nativeUpdate },
    answers: answers(story),
    events: story.events.map((e) => ({ ...e, occurredAt: e.occurredAt.toISOString(), receivedAt: e.receivedAt.toISOString() })),
  };
}

export function adoptionResponse(adoption: Adoption) {
  return { ...adoption, since: adoption.since.toISOString() };
}

export function createDevicesRoutes(deps: { deviceStories: DeviceStoryService }): Router {
  const router = Router();

  router.get('/v1/apps/:appId/devices/:deviceId', async (req, res) => {
    const principal = authorize(res, 'read', req.params.appId);
    const deviceId = parse(deviceIdSchema, req.params.deviceId, 'device id');
    res.json(deviceStoryResponse(req.params.appId, await deps.deviceStories.story(req.params.appId, deviceId, principal)));
  });

  router.get('/v1/apps/:appId/adoption', async (req, res) => {
    const principal = authorize(res, 'read', req.params.appId);
    const query = parse(adoptionQuerySchema, req.query, 'query string');
    res.json(adoptionResponse(await deps.deviceStories.adoption(req.params.appId, { channel: query.channel, windowHours: query.window }, principal)));
  });

  return router;
}
