import type { Response } from 'express';
import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../../api/device/admission';
import type { DeviceService } from '../../../api/device/device-service';
import { createRateLimiter } from '../../../api/device/rate-limiter';
import type { AppServing } from '../../../api/snapshot/rollout-snapshot';

describe('admission', () => {
  it('answers unknown apps without touching the rate limiter, and limits known ones', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, maxDevices: 10 });
    const taken: string[] = [];
    const devices: Pick<DeviceService, 'admit' | 'app'> = {
      app: (appId) => (appId === 'com.example.app' ? ({ appId } as AppServing) : undefined),
      admit: (appId, deviceId) => {
        taken.push(appId);
        return limiter.take(appId, deviceId);
      },
    };
    const answers: string[] = [];
    const admitted = createAdmission(devices, {
      tooManyRequests: () => answers.push('429'),
      unknownApp: (_res, appId) => answers.push(`unknown ${appId.length}`),
    });
    const res = {} as Response;
    for (let i = 0; i < 1000; i += 1) expect(admitted(res, `com.made.up${'x'.repeat(i)}`, 'd-1')).toBeUndefined();
    expect(taken).toEqual([]);
    expect(admitted(res, 'com.example.app', 'd-1')).toMatchObject({ appId: 'com.example.app' });
    expect(admitted(res, 'com.example.app', 'd-1')).toBeUndefined();
    expect(answers.slice(-1)).toEqual(['429']);
    expect(answers.filter((a) => a.startsWith('unknown'))).toHaveLength(1000);
  });
});
