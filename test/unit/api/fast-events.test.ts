import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastEvents } from '../../../api/device/fast-events';
import { incomingEvents } from '../../../api/device/incoming-events';
import { eventsRequestSchema } from '../../../api/device/native-schemas';
import { EVENT_TYPES } from '../../../domain/telemetry';
import { DAY_MS } from '../../../domain/time';

const device = { deviceId: 'd-1', platform: 'android', nativeVersion: '3.1.0' };
const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

/** What the schema makes of the events, as the route hands them on; null where it refuses them. */
function bySchema(events: unknown[]) {
  const result = eventsRequestSchema.safeParse({ ...device, events });
  return result.success ? incomingEvents(result.data.events) : null;
}

const weighted = <T,>(valid: fc.Arbitrary<T>, edges: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: edges, weight: 1 });
const other = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }));
// Each field mostly valid, otherwise at an edge the schema draws or of another kind; extra fields half the time.
const field = {
  type: weighted(fc.constantFrom(...EVENT_TYPES), fc.oneof(fc.constantFrom('Crash', 'crash ', 'constructor', '__proto__', 'capgo:set'), other)),
  at: weighted(
    fc.integer({ min: now - 29 * DAY_MS, max: now + DAY_MS / 2 }).map(iso),
    fc.oneof(fc.constantFrom(iso(now - 31 * DAY_MS), iso(now + 2 * DAY_MS), '2026-02-30T00:00:00Z', '2024-02-29T00:00:00Z', '2026-12-03T10:00:00+01:00', '2026-12-03T10:00:00', '2026-12-03', 'not a date'), other),
  ),
  bundleVersion: weighted(fc.constantFrom('1.1.0', '2.0.0-beta.1', 'é'), fc.oneof(fc.constantFrom('', 'x'.repeat(100), 'x'.repeat(101), 'a\u0000b', 'tab\there'), other)),
  message: weighted(fc.string({ maxLength: 20 }), fc.oneof(fc.constantFrom('line\nbreak\ttab', 'nul\u0000', 'bell\u0007', 'x'.repeat(2000), 'x'.repeat(2001)), other)),
  durationMs: weighted(fc.integer({ min: 0, max: DAY_MS }), fc.oneof(fc.constantFrom(-0, -1, 1.5, DAY_MS + 1, Number.MAX_SAFE_INTEGER + 2), other)),
  feature: weighted(fc.constantFrom('checkout', 'search'), fc.oneof(fc.constantFrom('', 'x'.repeat(100), 'x'.repeat(101), 'a\nb'), other)),
  updateId: other,
  ['__proto__']: other,
};
const { type, at, bundleVersion, ...extras } = field;
const someExtras = fc.oneof(
  { arbitrary: fc.constant({}), weight: 2 },
  { arbitrary: fc.oneof(...Object.entries(extras).map(([k, v]) => v.map((value) => ({ [k]: value })))), weight: 3 },
  { arbitrary: fc.record(extras, { requiredKeys: [] }), weight: 1 },
);
const event = fc
  .tuple(fc.record({ type, at, bundleVersion }, { requiredKeys: [] }), fc.record({ type, at, bundleVersion }), fc.nat(4).map((n) => n > 0), someExtras)
  .map(([some, all, complete, extra]) => ({ ...(complete ? all : some), ...extra }))
  // Through JSON, as the body parser hands it over (`__proto__` becomes an own key).
  .map((e) => JSON.parse(JSON.stringify(e)) as unknown);

describe('fastEvents', () => {
  it('takes only events the schema accepts, and yields what the schema yields for them', () => {
    let taken = 0;
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 3 }), (events) => {
        const fast = fastEvents(events, now);
        if (fast === null) return;
        taken += 1;
        expect(fast).toEqual(bySchema(events));
      }),
      { numRuns: 20_000 },
    );
    // Not vacuous: a good share of the posts were taken fast and compared.
    expect(taken).toBeGreaterThan(500);
  });

  it('takes every event the schema accepts when its values are ordinary ones (only the unusual go to the schema)', () => {
    const ordinary = fc.record(
      {
        type: fc.constantFrom(...EVENT_TYPES),
        at: fc.integer({ min: now - 29 * DAY_MS, max: now + DAY_MS / 2 }).map(iso),
        bundleVersion: fc.constantFrom('1.1.0', '2.0.0-beta.1'),
        message: fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ':', '\n', '\t'), maxLength: 30 }),
        durationMs: fc.integer({ min: 0, max: DAY_MS }),
        feature: fc.constantFrom('checkout', 'search'),
      },
      { requiredKeys: ['type', 'at', 'bundleVersion'] },
    );
    let compared = 0;
    fc.assert(
      fc.property(fc.array(ordinary, { minLength: 1, maxLength: 2 }), (events) => {
        const expected = bySchema(events);
        if (expected === null) return;
        compared += 1;
        expect(fastEvents(events, now)).toEqual(expected);
      }),
      { numRuns: 10_000 },
    );
    expect(compared).toBeGreaterThan(150);
  });

  it('takes the shapes devices send (so the schema runs only for the rare ones)', () => {
    const at = iso(now - 1000);
    const events = [
      { type: 'crash', at, bundleVersion: '1.1.0', message: 'TypeError: x is undefined\n\tat main.js:1' },
      { type: 'js_error', at, bundleVersion: '1.1.0' },
      // The same instant written at UTC+01:00.
      { type: 'session_start', at: iso(now - 1000 + 3_600_000).replace('Z', '+01:00'), bundleVersion: '1.1.0' },
      { type: 'session_end', at, bundleVersion: '1.1.0', durationMs: 45_000 },
      { type: 'feature_used', at, bundleVersion: '1.1.0', feature: 'checkout' },
      { type: 'install_ok', at, bundleVersion: '1.1.0', durationMs: 2500 },
      { type: 'install_failed', at, bundleVersion: '1.1.0', message: 'hash mismatch' },
      { type: 'boot_failed', at, bundleVersion: '1.1.0' },
    ];
    const fast = fastEvents(events, now);
    expect(fast).not.toBeNull();
    expect(fast).toEqual(bySchema(events));
    expect(fast!.map((e) => e.details)).toEqual([
      { message: 'TypeError: x is undefined\n\tat main.js:1' },
      null,
      null,
      { durationMs: 45_000 },
      { feature: 'checkout' },
      { durationMs: 2500 },
      { message: 'hash mismatch' },
      null,
    ]);
  });

  it('leaves every event the schema refuses to the schema', () => {
    const at = iso(now);
    for (const refused of [
      { type: 'session_end', at, bundleVersion: '1.1.0' },
      { type: 'feature_used', at, bundleVersion: '1.1.0', feature: '' },
      { type: 'crash', at, bundleVersion: '1.1.0', durationMs: 5 },
      { type: 'crash', at: iso(now - 31 * DAY_MS), bundleVersion: '1.1.0' },
      { type: 'crash', at, bundleVersion: 'a\u0000b' },
      { type: 'crash', at, bundleVersion: '1.1.0', message: 'nul\u0000' },
      { type: 'crash', at, bundleVersion: '1.1.0', message: 'x'.repeat(2001) },
      { type: 'crash', at, bundleVersion: 'x'.repeat(101) },
      { type: 'crash', at: '2026-02-30T00:00:00Z', bundleVersion: '1.1.0' },
      { type: 'feature_used', at, bundleVersion: '1.1.0', feature: 'a\nb' },
      { type: 'feature_used', at, bundleVersion: '1.1.0', feature: 'x'.repeat(101) },
      { type: 'session_end', at, bundleVersion: '1.1.0', durationMs: 1.5 },
      { type: 'install_ok', at, bundleVersion: '1.1.0', durationMs: DAY_MS + 1 },
      { type: 'teleported', at, bundleVersion: '1.1.0' },
      { type: 'constructor', at, bundleVersion: '1.1.0' },
    ]) {
      expect(bySchema([refused])).toBeNull();
      expect(fastEvents([refused], now)).toBeNull();
    }
  });
});
