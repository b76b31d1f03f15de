import { createBoundedCache } from './bounded-cache';
import type { FieldProblem } from './errors/validation-error';
import { DAY_MS, MINUTE_MS, SECOND_MS } from './time';

/** A weekly window, in the segment's own time zone, during which its exposure may change. */
export interface MaintenanceWindow {
  /** Days of the week the window opens on, 0 = Sunday … 6 = Saturday. */
  days: number[];
  /** Local opening time, `HH:MM`. */
  start: string;
  /** Local closing time, `HH:MM`; earlier than `start` means the window runs past midnight. */
  end: string;
  /** IANA time zone, e.g. `Europe/Berlin`. */
  timeZone: string;
}

// Local wall-clock times are handled as "local epoch ms": the instant at which a UTC clock would
// show the same reading. Day numbers and weekdays then follow from plain arithmetic.
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** 1970-01-01 was a Thursday. */
const EPOCH_WEEKDAY = 4;
/** Occurrences are searched from two local days before `now` to cover windows past midnight and DST slack. */
const LOOK_BACK_DAYS = 2;
/** Two weeks ahead: every weekly window has an occurrence DST cannot erase in that span. */
const LOOK_AHEAD_DAYS = 15;

interface Occurrence {
  openMs: number;
  closeMs: number;
}

/** An empty list means the segment has no restriction. */
export function isWindowOpen(windows: readonly MaintenanceWindow[], nowMs: number): boolean {
  return windows.length === 0 || windows.some((w) => isOpen(w, nowMs));
}

/**
 * When the next window opens: `nowMs` if one is open, otherwise the first later instant at which one
 * opens; null for an empty list (no window to wait for).
 */
export function nextWindowOpening(windows: readonly MaintenanceWindow[], nowMs: number): number | null {
  if (windows.length === 0) return null;
  if (isWindowOpen(windows, nowMs)) return nowMs;
  let next: number | null = null;
  for (const w of windows) {
    const opening = nextOpening(w, nowMs);
    if (opening !== null && (next === null || opening < next)) next = opening;
  }
  return next;
}

export function validateMaintenanceWindow(w: unknown, path = 'maintenanceWindow'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (at: string, message: string): void => {
    problems.push({ path: at, message });
  };
  if (typeof w !== 'object' || w === null || Array.isArray(w)) {
    add(path, 'must be an object {days, start, end, timeZone}');
    return problems;
  }
  const { days, start, end, timeZone } = w as Record<string, unknown>;
  if (!Array.isArray(days) || days.length === 0) {
    add(`${path}.days`, 'must be a non-empty array of weekdays, 0 = Sunday … 6 = Saturday');
  } else {
    const seen = new Set<unknown>();
    days.forEach((day: unknown, i) => {
      if (!(typeof day === 'number' && Number.isInteger(day) && day >= 0 && day <= 6)) add(`${path}.days[${i}]`, 'must be an integer from 0 (Sunday) to 6 (Saturday)');
      else if (seen.has(day)) add(`${path}.days[${i}]`, `day ${day} is listed twice`);
      seen.add(day);
    });
  }
  for (const [field, value] of [['start', start], ['end', end]] as const) {
    if (typeof value !== 'string' || !TIME.test(value)) add(`${path}.${field}`, 'must be a local time HH:MM from 00:00 to 23:59');
  }
  const zoneProblem = timeZoneProblem(timeZone);
  if (zoneProblem !== null) add(`${path}.timeZone`, zoneProblem);
  return problems;
}

/** Why a time zone name cannot be used, or null for a valid IANA name. */
export function timeZoneProblem(timeZone: unknown): string | null {
  if (typeof timeZone !== 'string' || timeZone === '') return 'must be an IANA time zone such as Europe/Berlin';
  try {
    formatterFor(timeZone);
    return null;
  } catch {
    return `unknown time zone "${timeZone}"; use an IANA name such as Europe/Berlin or UTC`;
  }
}

function isOpen(w: MaintenanceWindow, nowMs: number): boolean {
  const today = localDayAt(w.timeZone, nowMs);
  // One day ahead as well: where a DST change crosses midnight, the local date can step back.
  for (let day = today - LOOK_BACK_DAYS; day <= today + 1; day++) {
    const occurrence = occurrenceOn(w, day);
    if (occurrence !== null && occurrence.openMs <= nowMs && nowMs < occurrence.closeMs) return true;
  }
  return false;
}

function nextOpening(w: MaintenanceWindow, nowMs: number): number | null {
  const today = localDayAt(w.timeZone, nowMs);
  for (let day = today - 1; day <= today + LOOK_AHEAD_DAYS; day++) {
    const occurrence = occurrenceOn(w, day);
    if (occurrence !== null && occurrence.openMs > nowMs) return occurrence.openMs;
  }
  return null;
}

/**
 * The window's interval opening on a local day, or null when it does not open that day or DST
 * leaves nothing of it (e.g. 02:00–02:30 on a spring-forward day).
 */
function occurrenceOn(w: MaintenanceWindow, day: number): Occurrence | null {
  if (!w.days.includes(weekdayOf(day))) return null;
  const start = minutesOf(w.start);
  const end = minutesOf(w.end);
  const closeDay = end <= start ? day + 1 : day;
  const openMs = instantOf(w.timeZone, day * DAY_MS + start * MINUTE_MS);
  const closeMs = instantOf(w.timeZone, closeDay * DAY_MS + end * MINUTE_MS);
  return closeMs > openMs ? { openMs, closeMs } : null;
}

function minutesOf(time: string): number {
  const match = TIME.exec(time);
  return match === null ? Number.NaN : Number(match[1]) * 60 + Number(match[2]);
}

function weekdayOf(day: number): number {
  return (((day + EPOCH_WEEKDAY) % 7) + 7) % 7;
}

function localDayAt(timeZone: string, instantMs: number): number {
  return Math.floor(wallClockAt(timeZone, instantMs) / DAY_MS);
}

// Workflows ask about the same few days on every tick, and a zone's answer for a reading never
// changes within a process. Bounded, as zones and days are not.
const instants = createBoundedCache<number>(4096);

function instantOf(timeZone: string, local: number): number {
  return instants.get(`${timeZone} ${local}`, () => resolveInstant(timeZone, local));
}

/**
 * The instant a local wall-clock reading happens. A reading repeated when clocks fall back takes its
 * first occurrence; one skipped when they spring forward takes the first valid instant after it, the
 * moment of the change.
 */
function resolveInstant(timeZone: string, local: number): number {
  // Offsets a day either side of the reading are those before and after any change near it.
  const before = offsetAt(timeZone, local - DAY_MS);
  const after = offsetAt(timeZone, local + DAY_MS);
  const earlier = local - Math.max(before, after);
  const later = local - Math.min(before, after);
  if (wallClockAt(timeZone, earlier) === local) return earlier;
  if (wallClockAt(timeZone, later) === local) return later;
  return firstInstantShowing(timeZone, local, earlier, later);
}

/** Binary search, to the second, for the first instant in (lo, hi] whose clock reads `local` or later. */
function firstInstantShowing(timeZone: string, local: number, lo: number, hi: number): number {
  let below = lo;
  let atOrAbove = hi;
  while (atOrAbove - below > SECOND_MS) {
    const mid = below + Math.max(SECOND_MS, Math.floor((atOrAbove - below) / 2 / SECOND_MS) * SECOND_MS);
    if (wallClockAt(timeZone, mid) >= local) atOrAbove = mid;
    else below = mid;
  }
  return atOrAbove;
}

function offsetAt(timeZone: string, instantMs: number): number {
  const whole = Math.floor(instantMs / SECOND_MS) * SECOND_MS;
  return wallClockAt(timeZone, whole) - whole;
}

/** The zone's wall-clock reading at an instant, to the second, as local epoch ms. */
function wallClockAt(timeZone: string, instantMs: number): number {
  const reading: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of formatterFor(timeZone).formatToParts(instantMs)) {
    if (part.type !== 'literal') reading[part.type] = Number(part.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = reading;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

// Building a DateTimeFormat costs far more than using one; zones in use are few.
const formatters = createBoundedCache<Intl.DateTimeFormat>(1024);

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  return formatters.get(timeZone, () =>
    // en-US with h23 pins the calendar, digits and hour cycle whatever the host locale is.
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }),
  );
}
