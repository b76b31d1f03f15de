import type { IncomingEvent } from '../telemetry/telemetry-service';

/** The most one events post may carry, in each protocol that posts its events as one JSON document. */
export const EVENTS_BODY_LIMIT_BYTES = 256 * 1024;

/** Parsed device events as telemetry takes them: what every event has, and the rest of each as its details. */
export function incomingEvents<E extends Pick<IncomingEvent, 'type' | 'at' | 'bundleVersion'>>(events: readonly E[]): IncomingEvent[] {
  return events.map(({ type, at, bundleVersion, ...details }) => ({ type, at, bundleVersion, details: Object.keys(details).length > 0 ? details : null }));
}
