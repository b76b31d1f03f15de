import type { Response } from 'express';
import type { DeviceService } from './device-service';

/** A protocol's own 429: Rampart's error shape (native, CodePush) or Capgo's. */
export type TooManyRequests = (res: Response, retryAfterSeconds: number, appId: string) => void;

/** Takes one request from the device's budget; when it is spent, answers 429 and returns false. */
export type Admission = (res: Response, appId: string, deviceId: string) => boolean;

/** The per-device rate limit of every device route, answered in the shape its protocol's clients read. */
export function createAdmission(devices: Pick<DeviceService, 'admit'>, tooManyRequests: TooManyRequests): Admission {
  return (res, appId, deviceId) => {
    const verdict = devices.admit(appId, deviceId);
    if (!verdict.allowed) tooManyRequests(res, verdict.retryAfterSeconds, appId);
    return verdict.allowed;
  };
}
