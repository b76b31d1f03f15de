import type { MaintenanceWindow } from './maintenance-window';
import type { SegmentRule } from './segment-rules';

/** What plans and workflows need to know of a segment. */
export interface SegmentSummary {
  key: string;
  maintenanceWindows: MaintenanceWindow[];
}

export const BETA_SEGMENT = 'beta';
/** The built-in catch-all: every device no rule matches. */
export const DEFAULT_SEGMENT = 'default';

/** A segment as the app defines it: ordered by priority, first matching rule wins. */
export interface SegmentDefinition {
  key: string;
  rule: SegmentRule;
  priority: number;
  maintenanceWindows: MaintenanceWindow[];
}
