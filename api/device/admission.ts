import type { Response } from 'express';
import type { DeviceService } from './device-service';

/** A protocol's own 429: Rampart's error shape (native, CodePush) or Capgo's. */
export type TooManyRequests = (res: Response, retryAfterSeconds: number, appId: string) => void;

/** A protocol's own answer for an app this instance does not serve. */
export type UnknownApp = (res: Response, appId: string) => void;

/** Takes one request from the device's budget; when it is spent, answers 429 and returns false. */
export type Admission = (res: Response, appId: string, deviceId: string) => boolean;

/**
 * The per-device rate limit of every device route, answered in the shape its protocol's clients read.
 * Callers pass an app id and a device id their schema has bounded; only known apps reach the limiter,
 * so its memory follows the served apps' devices and not whatever ids callers make up.
 */
export function createAdmission(devices: Pick<DeviceService, 'admit' | 'app'>, answers: { tooManyRequests: TooManyRequests; unknownApp: UnknownApp }): Admission {
  return (res, appId, deviceId) => {
    if (!devices.app(appId)) {
      answers.unknownApp(res, appId);
      return false;
    }
    const verdict = devices.admit(appId, deviceId);
    if (!verdict.allowed) answers.tooManyRequests(res, verdict.retryAfterSeconds, appId);
    return verdict.allowed;
  };
}
