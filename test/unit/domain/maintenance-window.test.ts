import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWindowOpen, nextWindowOpening, validateMaintenanceWindow, type MaintenanceWindow } from '../../../domain/maintenance-window';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const utc = (iso: string) => Date.parse(`${iso}Z`);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace(':00.000Z', 'Z'));
const win = (days: number[], start: string, end: string, timeZone = 'UTC'): MaintenanceWindow => ({ days, start, end, timeZone });
const SUN = 0;
const MON = 1;
const TUE = 2;
const FRI = 5;
const SAT = 6;

/** The instants, in UTC, at which a window list turns open and closed, scanning minute by minute. */
function transitions(windows: MaintenanceWindow[], fromIso: string, toIso: string): string[] {
  const edges: string[] = [];
  let open = isWindowOpen(windows, utc(fromIso));
  for (let t = utc(fromIso) + MINUTE; t <= utc(toIso); t += MINUTE) {
    const now = isWindowOpen(windows, t);
    if (now !== open) edges.push(`${now ? 'open' : 'close'} ${iso(t)}`);
    open = now;
  }
  return edges;
}

describe(isWindowOpen.name, () => {
  it('is always open without windows', () => {
    expect(isWindowOpen([], utc('2024-05-01T03:00'))).toBe(true);
  });

  it('opens at start inclusive and closes at end exclusive, on the listed days only (UTC)', () => {
    // 2024-05-06 is a Monday.
    const windows = [win([MON], '09:00', '17:00')];
    expect(isWindowOpen(windows, utc('2024-05-06T08:59:59.999'))).toBe(false);
    expect(isWindowOpen(windows, utc('2024-05-06T09:00'))).toBe(true);
    expect(isWindowOpen(windows, utc('2024-05-06T16:59:59.999'))).toBe(true);
    expect(isWindowOpen(windows, utc('2024-05-06T17:00'))).toBe(false);
    expect(isWindowOpen(windows, utc('2024-05-07T10:00'))).toBe(false);
  });

  it('runs past midnight into the next day when end is before start', () => {
    // Saturday 2024-05-11 22:00 until Sunday 02:00.
    expect(transitions([win([SAT], '22:00', '02:00')], '2024-05-10T00:00', '2024-05-13T00:00')).toEqual(['open 2024-05-11T22:00Z', 'close 2024-05-12T02:00Z']);
  });

  it('treats equal start and end as a whole day from start', () => {
    expect(transitions([win([MON], '06:00', '06:00')], '2024-05-05T00:00', '2024-05-08T00:00')).toEqual(['open 2024-05-06T06:00Z', 'close 2024-05-07T06:00Z']);
  });

  it('is open when any of several windows is, merging overlaps', () => {
    const windows = [win([TUE], '01:00', '03:00'), win([TUE], '02:00', '04:00'), win([FRI], '23:30', '00:30')];
    expect(transitions(windows, '2024-05-06T00:00', '2024-05-12T00:00')).toEqual([
      'open 2024-05-07T01:00Z',
      'close 2024-05-07T04:00Z',
      'open 2024-05-10T23:30Z',
      'close 2024-05-11T00:30Z',
    ]);
  });

  it('reads days and times in the window time zone', () => {
    // Tuesday 09:00–10:00 in New York: EST (−5) in January, EDT (−4) in July.
    expect(transitions([win([TUE], '09:00', '10:00', 'America/New_York')], '2024-01-08T00:00', '2024-01-10T00:00')).toEqual([
      'open 2024-01-09T14:00Z',
      'close 2024-01-09T15:00Z',
    ]);
    expect(transitions([win([TUE], '09:00', '10:00', 'America/New_York')], '2024-07-08T00:00', '2024-07-10T00:00')).toEqual([
      'open 2024-07-09T13:00Z',
      'close 2024-07-09T14:00Z',
    ]);
    // Kolkata is +05:30: Saturday 22:00 local is 16:30 UTC, and Sunday 02:00 local is Saturday 20:30 UTC.
    expect(transitions([win([SAT], '22:00', '02:00', 'Asia/Kolkata')], '2024-05-10T00:00', '2024-05-13T00:00')).toEqual([
      'open 2024-05-11T16:30Z',
      'close 2024-05-11T20:30Z',
    ]);
    // Monday 01:00 in Kolkata is still Sunday in UTC.
    expect(transitions([win([MON], '01:00', '03:00', 'Asia/Kolkata')], '2024-05-11T00:00', '2024-05-14T00:00')).toEqual([
      'open 2024-05-12T19:30Z',
      'close 2024-05-12T21:30Z',
    ]);
  });

  describe('on DST days in Europe/Berlin', () => {
    // 2024-03-31: 02:00 CET jumps to 03:00 CEST (01:00 UTC). 2024-10-27: 03:00 CEST falls back to 02:00 CET (01:00 UTC).
    const berlin = (start: string, end: string, days = [SUN]) => [win(days, start, end, 'Europe/Berlin')];

    it('opens a window starting in the skipped hour at the first valid instant after it', () => {
      expect(transitions(berlin('02:30', '04:00'), '2024-03-30T00:00', '2024-04-01T00:00')).toEqual(['open 2024-03-31T01:00Z', 'close 2024-03-31T02:00Z']);
    });

    it('shortens a window spanning the skipped hour and drops one inside it', () => {
      expect(transitions(berlin('01:00', '03:00'), '2024-03-30T00:00', '2024-04-01T00:00')).toEqual(['open 2024-03-31T00:00Z', 'close 2024-03-31T01:00Z']);
      expect(transitions(berlin('02:00', '02:30'), '2024-03-30T00:00', '2024-04-01T00:00')).toEqual([]);
      expect(transitions(berlin('23:00', '03:00', [SAT]), '2024-03-30T00:00', '2024-04-01T00:00')).toEqual(['open 2024-03-30T22:00Z', 'close 2024-03-31T01:00Z']);
    });

    it('opens on the first pass of the repeated hour and stays open through the second', () => {
      expect(transitions(berlin('02:30', '04:00'), '2024-10-26T00:00', '2024-10-28T00:00')).toEqual(['open 2024-10-27T00:30Z', 'close 2024-10-27T03:00Z']);
      expect(transitions(berlin('02:00', '02:30'), '2024-10-26T00:00', '2024-10-28T00:00')).toEqual(['open 2024-10-27T00:00Z', 'close 2024-10-27T00:30Z']);
      expect(transitions(berlin('22:00', '03:00', [SAT]), '2024-10-26T00:00', '2024-10-28T00:00')).toEqual(['open 2024-10-26T20:00Z', 'close 2024-10-27T02:00Z']);
    });

    it('keeps local times on the days around the change', () => {
      const daily = berlin('09:00', '10:00', [0, 1, 2, 3, 4, 5, 6]);
      expect(transitions(daily, '2024-03-30T00:00', '2024-04-02T00:00')).toEqual([
        'open 2024-03-30T08:00Z',
        'close 2024-03-30T09:00Z',
        'open 2024-03-31T07:00Z',
        'close 2024-03-31T08:00Z',
        'open 2024-04-01T07:00Z',
        'close 2024-04-01T08:00Z',
      ]);
    });
  });

  it('handles DST days in America/New_York', () => {
    // 2024-03-10 02:00 EST → 03:00 EDT (07:00 UTC); 2024-11-03 02:00 EDT → 01:00 EST (06:00 UTC).
    const ny = (start: string, end: string) => [win([SUN], start, end, 'America/New_York')];
    expect(transitions(ny('02:15', '03:00'), '2024-03-09T00:00', '2024-03-11T12:00')).toEqual([]);
    expect(transitions(ny('02:15', '03:30'), '2024-03-09T00:00', '2024-03-11T12:00')).toEqual(['open 2024-03-10T07:00Z', 'close 2024-03-10T07:30Z']);
    expect(transitions(ny('01:30', '02:00'), '2024-11-02T00:00', '2024-11-04T12:00')).toEqual(['open 2024-11-03T05:30Z', 'close 2024-11-03T07:00Z']);
  });
});

describe(nextWindowOpening.name, () => {
  it('is null without windows', () => {
    expect(nextWindowOpening([], utc('2024-05-01T00:00'))).toBeNull();
  });

  it('is now while a window is open', () => {
    const now = utc('2024-05-11T23:17:42.5');
    expect(nextWindowOpening([win([SAT], '22:00', '02:00')], now)).toBe(now);
  });

  it('is the next opening of any window otherwise', () => {
    const windows = [win([SAT], '22:00', '02:00'), win([TUE], '12:00', '13:00', 'Asia/Kolkata')];
    expect(iso(nextWindowOpening(windows, utc('2024-05-12T02:00')))).toBe('2024-05-14T06:30Z');
    expect(iso(nextWindowOpening(windows, utc('2024-05-14T07:30')))).toBe('2024-05-18T22:00Z');
    expect(iso(nextWindowOpening([win([MON], '09:00', '17:00')], utc('2024-05-06T17:00')))).toBe('2024-05-13T09:00Z');
  });

  it('follows DST: a skipped start opens at the change, a vanished window waits a week', () => {
    const at = (start: string, end: string) => iso(nextWindowOpening([win([SUN], start, end, 'Europe/Berlin')], utc('2024-03-30T12:00')));
    expect(at('02:30', '04:00')).toBe('2024-03-31T01:00Z');
    expect(at('02:00', '02:30')).toBe('2024-04-07T00:00Z');
    expect(iso(nextWindowOpening([win([SUN], '02:30', '04:00', 'Europe/Berlin')], utc('2024-10-26T12:00')))).toBe('2024-10-27T00:30Z');
  });

  it('returns an instant at which a window is open, with none open at any earlier minute', () => {
    const zones = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Santiago'];
    const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45, 59)).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    const window = fc.record({
      days: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }),
      start: time,
      end: time,
      timeZone: fc.constantFrom(...zones),
    });
    // Half of the instants fall within days of a DST change in one of the zones.
    // Lord Howe shifts by half an hour; Santiago changes at midnight, so its local date steps back.
    const changes = [
      '2024-03-10T07:00',
      '2024-03-31T01:00',
      '2024-10-27T01:00',
      '2024-11-03T06:00',
      '2024-04-06T15:00',
      '2024-10-05T15:30',
      '2024-04-07T03:00',
      '2024-09-08T04:00',
    ].map(utc);
    const instant = fc.oneof(
      fc.integer({ min: utc('2024-01-01T00:00'), max: utc('2025-12-31T00:00') }),
      fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -3 * DAY, max: 3 * DAY })).map(([change, delta]) => change + delta),
    );
    fc.assert(
      fc.property(fc.array(window, { minLength: 1, maxLength: 3 }), instant, (windows, now) => {
        const next = nextWindowOpening(windows, now);
        expect(next).not.toBeNull();
        const opening = next!;
        expect(opening).toBeGreaterThanOrEqual(now);
        expect(isWindowOpen(windows, opening)).toBe(true);
        if (opening === now) return;
        expect(isWindowOpen(windows, now)).toBe(false);
        expect(isWindowOpen(windows, opening - SECOND)).toBe(false);
        for (const t of sampledMinutes(now, opening)) expect(isWindowOpen(windows, t)).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});

/** Every minute of the last hour before `to`, where an early opening would show, plus an even grid before it. */
function sampledMinutes(from: number, to: number): number[] {
  const first = Math.ceil((from + 1) / MINUTE) * MINUTE;
  const lastHour = Math.max(first, to - HOUR);
  const samples: number[] = [];
  const step = Math.max(MINUTE, Math.ceil((lastHour - first) / 40 / MINUTE) * MINUTE);
  for (let t = first; t < lastHour; t += step) samples.push(t);
  for (let t = lastHour; t < to; t += MINUTE) samples.push(t);
  return samples;
}

describe(validateMaintenanceWindow.name, () => {
  const problemsOf = (w: unknown) => validateMaintenanceWindow(w).map((p) => `${p.path}: ${p.message}`);

  it('accepts a valid window in any zone Intl knows', () => {
    expect(problemsOf(win([0, 6], '22:00', '02:00', 'Asia/Kolkata'))).toEqual([]);
    expect(problemsOf(win([3], '00:00', '23:59', 'UTC'))).toEqual([]);
  });

  it('names every problem with its path', () => {
    expect(problemsOf(win([], '9:00', '24:00', 'Mars/Olympus_Mons'))).toEqual([
      'maintenanceWindow.days: must be a non-empty array of weekdays, 0 = Sunday … 6 = Saturday',
      'maintenanceWindow.start: must be a local time HH:MM from 00:00 to 23:59',
      'maintenanceWindow.end: must be a local time HH:MM from 00:00 to 23:59',
      'maintenanceWindow.timeZone: unknown time zone "Mars/Olympus_Mons"; use an IANA name such as Europe/Berlin or UTC',
    ]);
    expect(validateMaintenanceWindow({ days: [1, 7, 1.5, 1, '2'], start: '10:60', end: '10:00', timeZone: '+01:00' }, 'maintenanceWindows[1]')).toEqual([
      { path: 'maintenanceWindows[1].days[1]', message: 'must be an integer from 0 (Sunday) to 6 (Saturday)' },
      { path: 'maintenanceWindows[1].days[2]', message: 'must be an integer from 0 (Sunday) to 6 (Saturday)' },
      { path: 'maintenanceWindows[1].days[3]', message: 'day 1 is listed twice' },
      { path: 'maintenanceWindows[1].days[4]', message: 'must be an integer from 0 (Sunday) to 6 (Saturday)' },
      { path: 'maintenanceWindows[1].start', message: 'must be a local time HH:MM from 00:00 to 23:59' },
      { path: 'maintenanceWindows[1].timeZone', message: 'unknown time zone "+01:00"; use an IANA name such as Europe/Berlin or UTC' },
    ]);
    expect(problemsOf({ days: [1], start: '10:00', end: '11:00' })).toEqual(['maintenanceWindow.timeZone: must be an IANA time zone such as Europe/Berlin']);
    expect(problemsOf('Mon 10-11')).toEqual(['maintenanceWindow: must be an object {days, start, end, timeZone}']);
  });
});
