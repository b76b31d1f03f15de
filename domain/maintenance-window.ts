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
