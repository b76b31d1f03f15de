import { Router } from 'express';
import { isRecord } from '../../../domain/is-record';
import { appIdSchema } from '../../admin/schemas';
import { createAdmission } from '../admission';
import type { DeviceService } from '../device-service';
import { badRequest, onPremiseApp, tooManyRequests, updateAnswer } from './capgo-answers';
import { createCapgoChannelRoutes } from './capgo-channel-routes';
import { identityOf } from './capgo-identity';
import { capgoJson } from './capgo-json';
import { MAX_STATS_EVENTS, parsePluginInput, statsEventSchema, updateRequestSchema, type StatsEvent } from './capgo-schemas';
import { statsBundleVersion, toIncomingEvent } from './capgo-stats';

/** The app ids a stats body names; events without one fail on their own. */
function appIdsOf(items: unknown[]): Set<string> {
  return new Set(items.flatMap((item) => (isRecord(item) && typeof item.app_id === 'string' ? [item.app_id] : [])));
}

/**
 * The Capgo device protocol (`@capgo/capacitor-updater` 8.x): `updateUrl`, `statsUrl` and
 * `channelUrl` of the plugin point here. Every answer comes from the DeviceService.
 */
export function createCapgoRoutes(deps: { devices: DeviceService }): Router {
  const router = Router();
  const admitted = createAdmission(deps.devices, tooManyRequests);
  router.use('/updates', capgoJson('32kb'));
  // A full batch of 200 events with WebView stacks in their metadata stays well below this.
  router.use('/stats', capgoJson('1mb'));

  router.get('/updates', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.post('/updates', (req, res) => {
    const parsed = parsePluginInput(updateRequestSchema, req.body);
    if (!parsed.ok) return badRequest(res, parsed.problem);
    const info = parsed.value;
    if (!admitted(res, info.app_id, info.device_id)) return;
    const result = deps.devices.check(identityOf(info), 'capgo');
    if (!result) return onPremiseApp(res);
    res.json(updateAnswer(result, info));
  });

  router.post('/stats', async (req, res) => {
    const body: unknown = req.body;
    const batch = Array.isArray(body);
    if (!batch && !isRecord(body)) return badRequest(res, { error: 'invalid_json_body', message: 'Cannot parse body' });
    const items: unknown[] = batch ? body : [body];
    if (items.length === 0) return void res.json({ status: 'ok', results: [] });
    if (items.length > MAX_STATS_EVENTS) {
      return badRequest(res, { error: 'invalid_json_body', message: `At most ${MAX_STATS_EVENTS} events per request`, moreInfo: { events: items.length } });
    }
    const appIds = appIdsOf(items);
    if (appIds.size > 1) return badRequest(res, { error: 'mixed_app_ids', message: 'All events in a batch must have the same app_id' });
    const [appId] = appIds;
    if (appId === undefined) return badRequest(res, { error: 'invalid_app_id', message: 'Cannot find app_id' });
    if (!appIdSchema.safeParse(appId).success) return badRequest(res, { error: 'invalid_app_id', message: 'app_id must be a reverse-domain id' });

    const parsed = items.map((item) => parsePluginInput(statsEventSchema, item));
    const [first] = parsed;
    if (!batch && first && !first.ok) return badRequest(res, first.problem);
    const byDevice = new Map<string, StatsEvent[]>();
    for (const p of parsed) {
      if (!p.ok) continue;
      const stats = byDevice.get(p.value.device_id);
      if (stats) stats.push(p.value);
      else byDevice.set(p.value.device_id, [p.value]);
    }
    for (const deviceId of byDevice.keys()) {
      if (!admitted(res, appId, deviceId)) return;
    }
    if (!deps.devices.app(appId)) return onPremiseApp(res);

    const receivedAt = Date.now();
    const known = await Promise.all(
      [...byDevice.values()].map((stats) => {
        // The newest event says best what the device runs now.
        const latest = stats.at(-1)!;
        return deps.devices.report(
          identityOf(latest, statsBundleVersion(latest)),
          stats.map((s) => toIncomingEvent(s, receivedAt)),
        );
      }),
    );
    if (known.includes(false)) return onPremiseApp(res);
    if (!batch) return void res.json({ status: 'ok' });
    res.json({
      status: 'ok',
      results: parsed.map((p, index) => (p.ok ? { status: 'ok', index } : { status: 'error', ...p.problem, index })),
    });
  });

  router.use(createCapgoChannelRoutes({ ...deps, admitted }));
  return router;
}
