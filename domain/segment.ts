import type { MaintenanceWindow } from './maintenance-window';

/** What plans and workflows need to know of a segment. */
export interface SegmentSummary {
  key: string;
  maintenanceWindows: MaintenanceWindow[];
}

export const BETA_SEGMENT = 'beta';
