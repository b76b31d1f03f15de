import type { RollupCohort, RollupStep } from '../domain/insight';
import type { InsightTotals, SegmentAdoption } from '../domain/insight-report';
import type { ReleaseStatus } from '../domain/release';

/** What `GET /v1/releases/:id/insights` answers, as far as the CLI reads it. */
export interface InsightsAnswer {
  releaseId: string;
  appId: string;
  channel: string;
  version: string;
  status: ReleaseStatus;
  step: RollupStep;
  from: string;
  to: string;
  series: Array<{ segment: string; cohort: RollupCohort; totals: InsightTotals }>;
  adoption: SegmentAdoption[];
}
