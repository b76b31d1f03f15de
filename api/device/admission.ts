import type { Request, Response } from 'express';
import type { AppServing } from '../snapshot/app-serving';
import type { DeviceService } from './device-service';

/** A protocol's own 429: Rampart's error shape (native, CodePush) or Capgo's; `message` says which limit, when not the device's own. */
export type TooManyRequests = (res: Response, retryAfterSeconds: number, appId: string, message?: string) => void;

/** A protocol's own answer for an app this instance does not serve. */
export type UnknownApp = (res: Response, appId: string) => void;

/**
 * Looks the app up (or takes the one the caller already resolved) and takes one request (carrying
 * `events` events, 1 by default) from the device's budget and its source address's. Returns the app
 * the rest of the request is served from; undefined when the app is unknown or a budget is spent,
 * the protocol's answer already sent.
 */
export type Admission = (res: Response, app: string | AppServing, deviceId: string, events?: number) => AppServing | undefined;

const SOURCE_LIMIT_MESSAGES = {
  new_devices: 'too many new device ids from this address',
  events: 'too many events from this address',
} as const;

/**
 * The per-device rate limit of every device route, answered in the shape its protocol's clients read.
 * Callers pass an app id and a device id their schema has bounded; only known apps reach the limiter,
 * so its memory follows the served apps' devices and not whatever ids callers make up.
 */
export function createAdmission(devices: Pick<DeviceService, 'admit' | 'app'>, answers: { tooManyRequests: TooManyRequests; unknownApp: UnknownApp }): Admission {
  return (res, appOrId, deviceId, events = 1) => {
    const app = typeof appOrId === 'string' ? devices.app(appOrId) : appOrId;
    if (!app) {
      if (typeof appOrId === 'string') answers.unknownApp(res, appOrId);
      return undefined;
    }
    const { appId } = app;
    // `req.ip` honours the app's `trust proxy`; a response built outside Express (tests) has no request.
    const address = (res.req as Request | undefined)?.ip;
    const verdict = devices.admit(appId, deviceId, address === undefined ? undefined : { address, events });
    if (verdict.allowed) return app;
    const message = 'limit' in verdict ? `${SOURCE_LIMIT_MESSAGES[verdict.limit]}; retry in ${verdict.retryAfterSeconds} s` : undefined;
    answers.tooManyRequests(res, verdict.retryAfterSeconds, appId, message);
    return undefined;
  };
}
