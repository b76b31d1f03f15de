import type { Stores } from '../../db/create-stores';
import type { InsightBucket, InsightReadModel } from '../../db/read-models/insight-read-model';
import { canAccessApp, type Principal } from '../../domain/access';
import { NotFoundError } from '../../domain/errors/not-found-error';
import { ValidationError } from '../../domain/errors/validation-error';
import { featureTracking, OTHER_FEATURE, ROLLUP_COHORTS, ROLLUP_STEPS, type RollupCohort, type RollupStep } from '../../domain/insight';
import {
  addAdditive,
  emptyFigures,
  featurePositions,
  featureUsesOf,
  insightFigures,
  insightTotals,
  segmentAdoption,
  type InsightFigures,
  type InsightTotals,
  type SegmentAdoption,
} from '../../domain/insight-report';
import type { Release } from '../../domain/release';
import type { GateReport } from '../../domain/rollout-view';
import { recentGateViews } from './recent-gate-views';
import type { RolloutClient } from './rollout-client';

export interface InsightRequest {
  step: RollupStep;
  /** Epoch ms; the range is widened to whole buckets. */
  from: number;
  to: number;
  segment?: string;
  cohort?: RollupCohort;
  /** Feature names whose uses every point and the totals list. */
  features?: string[];
}

export type InsightPoint = { start: string } & InsightFigures;

export interface InsightSeries {
  segment: string;
  cohort: RollupCohort;
  /** Buckets with at least one event, oldest first. */
  points: InsightPoint[];
  totals: InsightTotals;
}

export interface ReleaseInsights {
  releaseId: string;
  appId: string;
  channel: string;
  version: string;
  /** What devices are served: the published state in PostgreSQL. */
  status: Release['status'];
  step: RollupStep;
  from: string;
  to: string;
  series: InsightSeries[];
  /**
   * Per segment, every cohort together: the adoption curve within the range, the time to 50/90/95 %
   * since the release started (read from its start whatever the range), and the devices left on a
   * withdrawn bundle.
   */
  adoption: SegmentAdoption[];
  /**
   * The gate's own canary-versus-control view: the workflow's last gate report, as the workflow
   * answered at most GATE_VIEW_MAX_AGE_MS ago; null before the first one, or when Temporal did not
   * answer within GATE_VIEW_TIMEOUT_MS.
   */
  gates: GateReport | null;
  /** A personalized release's segments with the version each gets instead of `version`. */
  segmentBundles: Record<string, string>;
}

export interface InsightService {
  /** The answer as JSON: a `ReleaseInsights`, its series last. */
  get(releaseId: string, request: InsightRequest, principal: Principal): Promise<string>;
}

/**
 * How long an answer waits for the workflow's gate report. Everything else is read from PostgreSQL,
 * and the report is asked for alongside: with Temporal slow or down, insights still answer at once.
 */
export const GATE_VIEW_TIMEOUT_MS = 250;
/** Answers within this long of each other show the gate report of one query (recentGateViews). */
export const GATE_VIEW_MAX_AGE_MS = 2000;

const planSegments = (release: Release) => [...new Set(release.plan.stages.flatMap((s) => s.segments))];

/** Refuses a feature whose uses count under `other` (the app keeps as many other names as it may). */
function checkFeatures(appId: string, kept: string[], features: readonly string[]): void {
  const mixed = features.filter((f) => f !== OTHER_FEATURE && featureTracking(kept, f) === 'other');
  if (mixed.length === 0) return;
  throw new ValidationError(
    `app ${appId} keeps ${kept.length} other feature names, so uses of ${mixed.join(', ')} count under ${OTHER_FEATURE}; ask for one it keeps or for ${OTHER_FEATURE}`,
    [{ path: 'feature', message: `one of ${[...kept, OTHER_FEATURE].join(', ')}` }],
  );
}

/** An object's JSON `objectJson` with `key` added last, its value `json` (encoded already). */
const appendEncoded = (objectJson: string, key: string, json: string) =>
  `${objectJson.slice(0, -1)}${objectJson.length > 2 ? ',' : ''}${JSON.stringify(key)}:${json}}`;

const withEncoded = (object: object, key: string, json: string) => appendEncoded(JSON.stringify(object), key, json);

export interface InsightServiceDeps {
  stores: Pick<Stores, 'releases' | 'rolloutStates' | 'segmentBundles'>;
  rollouts: Pick<RolloutClient, 'queryState'>;
  insight: InsightReadModel;
}

export function createInsightService(deps: InsightServiceDeps): InsightService {
  // A day of 5-minute points is most of an answer's work and bytes, and all but the latest few are
  // as the last answer encoded them: the read model answers the same bucket object while its row is
  // unchanged, and its encoding is kept with it (gone with it once the read model lets it go).
  const encoded = new WeakMap<InsightBucket, string>();
  const gateViews = recentGateViews(deps.rollouts, GATE_VIEW_TIMEOUT_MS, GATE_VIEW_MAX_AGE_MS);
  const encodedPoint = (bucket: InsightBucket): string => {
    let json = encoded.get(bucket);
    if (json === undefined) {
      json = JSON.stringify({ start: new Date(bucket.start).toISOString(), ...insightFigures(bucket.figures) } satisfies InsightPoint);
      encoded.set(bucket, json);
    }
    return json;
  };
  return {
    async get(releaseId, request, principal) {
      const release = await deps.stores.releases.get(releaseId);
      if (!release || !canAccessApp(principal, release.appId)) throw new NotFoundError(`no release ${releaseId}`);
      const segments = planSegments(release);
      if (request.segment !== undefined && !segments.includes(request.segment)) {
        throw new ValidationError(`release ${releaseId} has no segment ${request.segment}; its plan's segments are ${segments.join(', ')}`, [
          { path: 'segment', message: `one of ${segments.join(', ')}` },
        ]);
      }
      const stepMs = ROLLUP_STEPS[request.step];
      const from = Math.floor(request.from / stepMs) * stepMs;
      const to = Math.ceil(request.to / stepMs) * stepMs;
      const wanted = request.segment === undefined ? segments : [request.segment];
      const startedAtMs = Date.parse(release.createdAt);
      const [figures, adoption, published, view, segmentBundles] = await Promise.all([
        deps.insight.read({
          releaseId,
          stepMs,
          from: new Date(from),
          to: new Date(to),
          segments: wanted,
          cohorts: request.cohort === undefined ? [...ROLLUP_COHORTS] : [request.cohort],
        }),
        deps.insight.readAdoption({ releaseId, stepMs, from: new Date(Math.min(from, Math.floor(startedAtMs / stepMs) * stepMs)), to: new Date(to), segments: wanted }),
        deps.stores.rolloutStates.get(releaseId),
        gateViews.get(release.workflowId),
        deps.stores.segmentBundles.forRelease(releaseId),
      ]);
      const status = published?.status ?? release.status;
      checkFeatures(release.appId, figures.keptFeatures, request.features ?? []);
      const features = featurePositions(figures.featureNames, request.features ?? []);
      const point = (bucket: InsightBucket) => {
        const json = encodedPoint(bucket);
        return features.size === 0 ? json : appendEncoded(json, 'featureUses', JSON.stringify(featureUsesOf(bucket.figures, features)));
      };
      const series = figures.series.map((s) => {
        const total = { ...emptyFigures(), ...s.range };
        for (const bucket of s.buckets) addAdditive(total, bucket.figures);
        const head: Omit<InsightSeries, 'points'> = { segment: s.segment, cohort: s.cohort, totals: insightTotals(total, s.range !== null, figures.featureNames, features) };
        return withEncoded(head, 'points', `[${s.buckets.map(point).join(',')}]`);
      });
      const answer: Omit<ReleaseInsights, 'series'> = {
        releaseId,
        appId: release.appId,
        channel: release.channel,
        version: release.version,
        status,
        step: request.step,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        adoption: wanted.map((segment) =>
          segmentAdoption({ segment, sinceStart: adoption.get(segment) ?? [], fromMs: from, toMs: to, startedAtMs, stepMs, status }),
        ),
        gates: view?.gates ?? null,
        segmentBundles,
      };
      return withEncoded(answer, 'series', `[${series.join(',')}]`);
    },
  };
}
