import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundleRef, deviceContext, servingRelease } from '../../support/fixtures';
import { BPS_SCALE, isUsableDeviceId } from '../../../domain/bucketing';
import { armAmong, type ServingArm, type ServingExperiment } from '../../../domain/experiment-serving';
import { isWindowOpen, type MaintenanceWindow } from '../../../domain/maintenance-window';
import { RELEASE_STATUSES } from '../../../domain/release';
import {
  deliveryTimeFor,
  isNewlyExposed,
  isQuietAt,
  notificationDeliveryId,
  notificationProblems,
  notifiedArms,
  notifiedTargetOf,
  scheduleDeliveries,
} from '../../../domain/segment-notification';
import { buildChannelServing, decide } from '../../../domain/serving';
import { HOUR_MS, MINUTE_MS } from '../../../domain/time';

// Thursday 2026-12-03 12:00 UTC.
const NOON_UTC = Date.UTC(2026, 11, 3, 12, 0);
const quiet = { start: '22:00', end: '07:00' };

describe(deliveryTimeFor.name, () => {
  it('delivers at once outside quiet hours and with no window', () => {
    expect(deliveryTimeFor(NOON_UTC, quiet, 'UTC', [])).toBe(NOON_UTC);
    expect(deliveryTimeFor(NOON_UTC, null, 'Asia/Tokyo', [])).toBe(NOON_UTC);
  });

  it('waits for the end of quiet hours in the device zone', () => {
    // 21:00 in Tokyo: not quiet yet. Auckland (UTC+13 in December) is at 01:00, quiet until 07:00 local.
    expect(deliveryTimeFor(NOON_UTC, quiet, 'Asia/Tokyo', [])).toBe(NOON_UTC);
    expect(isQuietAt(quiet, 'Pacific/Auckland', NOON_UTC)).toBe(true);
    expect(deliveryTimeFor(NOON_UTC, quiet, 'Pacific/Auckland', [])).toBe(NOON_UTC + 6 * HOUR_MS);
  });

  it('handles quiet hours that do not cross midnight', () => {
    expect(deliveryTimeFor(NOON_UTC, { start: '11:30', end: '12:45' }, 'UTC', [])).toBe(NOON_UTC + 45 * MINUTE_MS);
  });

  it("waits for the segment's maintenance window, then for quiet hours to end inside it", () => {
    const window: MaintenanceWindow = { days: [5], start: '02:00', end: '10:00', timeZone: 'UTC' };
    // Friday 02:00 UTC opens the window, but quiet lasts until 07:00 UTC.
    expect(deliveryTimeFor(NOON_UTC, quiet, 'UTC', [window])).toBe(Date.UTC(2026, 11, 4, 7, 0));
  });

  it('lets quiet hours win when they cover the whole window', () => {
    // Berlin 09:00-17:00 is 03:00-11:00 in New York, all of it quiet there: told at 11:00 New York.
    const window: MaintenanceWindow = { days: [1, 3], start: '09:00', end: '17:00', timeZone: 'Europe/Berlin' };
    expect(deliveryTimeFor(NOON_UTC, { start: '00:00', end: '11:00' }, 'America/New_York', [window])).toBe(NOON_UTC + 4 * HOUR_MS);
  });

  it('never answers a quiet moment, nor one outside the window unless none is awake (property)', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Pacific/Auckland'];
    const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    fc.assert(
      fc.property(fc.constantFrom(...zones), time, time, fc.integer({ min: 0, max: 400 * 24 }), fc.boolean(), (zone, start, end, hours, withWindow) => {
        fc.pre(start !== end);
        const now = NOON_UTC + hours * HOUR_MS;
        const hours_ = { start, end };
        const windows: MaintenanceWindow[] = withWindow ? [{ days: [1, 3], start: '09:00', end: '17:00', timeZone: 'Europe/Berlin' }] : [];
        const at = deliveryTimeFor(now, hours_, zone, windows);
        expect(at).toBeGreaterThanOrEqual(now);
        expect(isQuietAt(hours_, zone, at)).toBe(false);
        if (!isWindowOpen(windows, at)) {
          // Only when no moment of the coming two weeks is both awake and inside the window.
          for (let t = now; t < now + 14 * 24 * HOUR_MS; t += 15 * MINUTE_MS) expect(isWindowOpen(windows, t) && !isQuietAt(hours_, zone, t)).toBe(false);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe(scheduleDeliveries.name, () => {
  it('groups devices by the moment they may be told, earliest first, with the app zone for devices without one', () => {
    const groups = scheduleDeliveries(
      [
        { deviceId: 'a', timeZone: 'Pacific/Auckland' },
        { deviceId: 'b', timeZone: 'Asia/Tokyo' },
        { deviceId: 'c', timeZone: null },
        { deviceId: 'd', timeZone: 'Pacific/Auckland' },
      ],
      NOON_UTC,
      quiet,
      'Pacific/Auckland',
      [],
    );
    expect(groups).toEqual([
      { at: NOON_UTC, deviceIds: ['b'] },
      { at: NOON_UTC + 6 * HOUR_MS, deviceIds: ['a', 'c', 'd'] },
    ]);
  });
});

describe(isNewlyExposed.name, () => {
  it('reaches each bucket exactly once as exposure grows (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 9999 }), (steps, bucket) => {
        const stages = [0, ...steps.sort((a, b) => a - b)];
        const hits = stages.slice(1).filter((to, i) => isNewlyExposed(bucket, stages[i]!, to)).length;
        expect(hits).toBe(bucket < stages.at(-1)! ? 1 : 0);
      }),
    );
  });
});

describe(notificationProblems.name, () => {
  it('wants one notification per segment, of a segment the plan exposes', () => {
    const spec = (segment: string) => ({ segment, message: { title: 'hi' }, quietHours: null });
    const problems = notificationProblems([spec('power'), spec('power'), spec('vip'), spec('new')], ['power', 'new', 'default'], ['power', 'default']);
    expect(problems.map((p) => p.message)).toEqual([
      'segment power has a notification already; one per segment',
      'the app has no segment vip; its segments are power, new, default',
      'the plan never exposes segment new, so its notification would never be sent; add it to a stage',
    ]);
  });
});

const arm = (key: string, version: string | null, over: Partial<ServingArm> = {}): ServingArm => ({
  key,
  bundle: version === null ? null : bundleRef(version),
  weight: 1,
  installMode: 'next_launch',
  control: key === 'a',
  stopped: false,
  ...over,
});
/** The control on the baseline, two treatment arms, and one that names the baseline's own version (1.0.0). */
const armsOf = (stopped: readonly boolean[] = []) =>
  [arm('a', null), arm('b', '2.0.0'), arm('c', '3.0.0', { weight: 2 }), arm('d', '1.0.0', { installMode: 'immediate' })].map((a, i) => ({ ...a, stopped: stopped[i] ?? false }));
const experiment = (stopped: readonly boolean[] = []): ServingExperiment => ({ armSalt: 'arm-salt', arms: armsOf(stopped) });
const main = bundleRef('2.0.0');

describe(notifiedTargetOf.name, () => {
  it('tells every device of a plain release about the segment bundle, with no arm', () => {
    expect(notifiedTargetOf('dev-1', main, null, '1.0.0')).toEqual({ arm: null, bundle: main });
  });

  it("tells an experiment's devices their own arm's bundle, and nothing to arms that keep the baseline or were stopped", () => {
    const running = experiment([false, false, true, false]);
    // a keeps the baseline by having no bundle, d by naming the baseline's version; c was stopped.
    const expected = { a: 'baseline_arm', b: { arm: 'b', bundle: bundleRef('2.0.0') }, c: 'stopped_arm', d: 'baseline_arm' } as const;
    const arms = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const key = armAmong(running, `dev-${i}`)!.key as keyof typeof expected;
      arms.add(key);
      expect(notifiedTargetOf(`dev-${i}`, main, running, '1.0.0')).toEqual(expected[key]);
    }
    expect(arms.size).toBe(4);
    expect(notifiedTargetOf('   ', main, running, '1.0.0')).toBeNull();
  });

  it("agrees with what serving then answers a device on the baseline, in every status and whichever arms are stopped (property)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), fc.constantFrom(...RELEASE_STATUSES), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (id, status, stopped) => {
        fc.pre(isUsableDeviceId(id) && status !== 'pending');
        const release = servingRelease({ status, exposure: { default: BPS_SCALE }, target: main, experiment: experiment(stopped) });
        const decision = decide(buildChannelServing([release]).get('production'), deviceContext(id));
        const target = notifiedTargetOf(id, release.target, notifiedArms(release.experiment, status), release.fallback!.version);
        if (decision.action === 'update') expect(target).toEqual({ arm: decision.experimentArm?.key ?? null, bundle: decision.bundle });
        else expect(['baseline_arm', 'stopped_arm']).toContain(target);
      }),
    );
  });
});

describe(notifiedArms.name, () => {
  it('lets the arms decide while the experiment runs, stops them all once it is withdrawn, and leaves a completed one to its promoted bundle', () => {
    const running = experiment([false, true]);
    expect(notifiedArms(running, 'running')).toBe(running);
    expect(notifiedArms(running, 'paused')).toBe(running);
    expect(notifiedArms(running, 'completed')).toBeNull();
    for (const status of ['aborted', 'rolled_back'] as const) expect(notifiedArms(running, status)!.arms.map((a) => a.stopped)).toEqual([true, true, true, true]);
    for (const status of RELEASE_STATUSES) expect(notifiedArms(undefined, status)).toBeNull();
  });
});

describe(notificationDeliveryId.name, () => {
  it('names the growth, moment and page, and the arm in an experiment', () => {
    const growth = { releaseId: 'r1', segment: 'power', toBps: 5000 };
    expect(notificationDeliveryId(growth, 1_700_000_000_000, 2, null)).toBe('notification:r1:power:5000:1700000000000:2');
    expect(notificationDeliveryId(growth, 1_700_000_000_000, 2, 'b')).toBe('notification:r1:power:5000:1700000000000:2:b');
  });
});
